import { describe, expect, it } from "vitest";
import { RunView } from "../gen/deerflow/v1/run_pb.js";
import { startRunRequest } from "./start-run.js";
import { ShellTask } from "./tasks/shell-task.js";
import { Workflow } from "./workflow.js";

describe("startRunRequest", () => {
  it("sends a Workflow as its definition document, in JSON text", () => {
    const wf = new Workflow({ name: "w" }).add(new ShellTask("a", "true"));
    const request = startRunRequest({
      definition: wf,
      params: { n: 1, skip: undefined },
      idempotencyKey: "k1",
      view: RunView.FULL,
    });
    expect(request).toEqual({
      workflow: {
        case: "definition",
        value: {
          source: { case: "text", value: JSON.stringify(wf.toDefinition()) },
        },
      },
      params: { n: 1 },
      idempotencyKey: "k1",
      view: RunView.FULL,
    });
  });

  it("sends text as text and a name as a reference", () => {
    expect(startRunRequest({ definition: "name: w" }).workflow).toEqual({
      case: "definition",
      value: { source: { case: "text", value: "name: w" } },
    });
    expect(startRunRequest({ workflow: "nightly" }).workflow).toEqual({
      case: "workflowRef",
      value: { name: "nightly", version: 0 },
    });
    expect(
      startRunRequest({ workflow: "nightly", version: 3 }).workflow,
    ).toEqual({ case: "workflowRef", value: { name: "nightly", version: 3 } });
  });

  it("names the field of a contradictory request", () => {
    expect(() => startRunRequest({} as never)).toThrow(
      "definition: give exactly one of definition (inline) or workflow",
    );
    expect(() =>
      startRunRequest({ definition: "x", workflow: "y" } as never),
    ).toThrow("workflow: give exactly one of");
    expect(() => startRunRequest({ workflow: "w", version: -1 })).toThrow(
      "version: must be an integer >= 0",
    );
    expect(() =>
      startRunRequest({ workflow: "w", view: "RUN_VIEW_BASIC" as never }),
    ).toThrow(
      "view: must be RunView.BASIC or RunView.FULL, not RUN_VIEW_BASIC",
    );
    expect(() =>
      startRunRequest({
        definition: { name: "w", tasks: [], x: new Date() } as never,
      }),
    ).toThrow("definition.x: must be plain JSON data, not a Date");
  });
});
