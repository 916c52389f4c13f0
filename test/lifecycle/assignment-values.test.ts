import { afterEach, describe, expect, it } from "vitest";
import type { Assignment } from "../../gen/deerflow/v1/agent_pb.js";
import { startInline } from "../support/runs.js";
import {
  assignmentsIn,
  openScriptedAgent,
  type ScriptedAgent,
} from "../support/scripted-agent.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const ONE_TASK = {
  name: "values",
  tasks: [{ id: "one", type: "shell", command: "echo ${run.name}" }],
};

const utf8 = new TextDecoder();

describe.each(testBackends())(
  "an assignment's config and context, on $name",
  (backend) => {
    let cp: TestControlPlane | undefined;
    let agent: ScriptedAgent | undefined;
    afterEach(async () => {
      await agent?.close();
      await cp?.close();
    });

    async function assignedTo(acceptsJsonValues: boolean): Promise<{
      runId: string;
      assignment: Assignment;
    }> {
      cp = await startTestControlPlane(backend);
      agent = await openScriptedAgent(cp.url, {
        name: "values",
        acceptsJsonValues,
      });
      agent.send({ case: "credit", value: { freeSlots: 1 } });
      const runId = await startInline(cp.clients, ONE_TASK);
      const response = await agent.next(
        (r) => assignmentsIn(r).length > 0,
        "the assignment",
      );
      const assignment = assignmentsIn(response)[0];
      if (!assignment) throw new Error("no assignment");
      return { runId, assignment };
    }

    const expected = (runId: string) => ({
      config: { command: "echo ${run.name}" },
      context: {
        params: {},
        tasks: {},
        run: { id: runId, name: "values" },
        task: { id: "one", attempt: 1 },
      },
    });

    it("go as JSON bytes to an agent that accepts_json_values", async () => {
      const { runId, assignment } = await assignedTo(true);
      expect(assignment.config).toBeUndefined();
      expect(assignment.context).toBeUndefined();
      const config = JSON.parse(utf8.decode(assignment.configJson));
      const context = JSON.parse(utf8.decode(assignment.contextJson));
      expect({ config, context }).toMatchObject(expected(runId));
      expect(Date.parse(context.run.started_at)).not.toBeNaN();
    });

    it("go as Structs to an agent that does not", async () => {
      const { runId, assignment } = await assignedTo(false);
      expect(assignment.configJson).toHaveLength(0);
      expect(assignment.contextJson).toHaveLength(0);
      expect({
        config: assignment.config,
        context: assignment.context,
      }).toMatchObject(expected(runId));
    });
  },
);
