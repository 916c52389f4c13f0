import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject } from "../../plugin-sdk/index.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import { curl } from "./curl.js";

const [pglite] = testBackends();

/** `[[[...1...]]]`, `depth` levels deep. */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe("hostile shapes sent to the API", () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    if (!pglite) throw new Error("no PGlite backend");
    cp = await startTestControlPlane(pglite);
  });
  afterAll(() => cp?.close());

  it("refuses deeply nested definition text, twice, and keeps serving", async () => {
    const depth = 100_000;
    const text = `{"name":"d","params":{"p":${"[".repeat(depth)}${"]".repeat(depth)}},"tasks":[{"id":"a","type":"shell","command":"echo"}]}`;
    const dir = await mkdtemp(join(tmpdir(), "deerflow-hostile-"));
    const body = join(dir, "body.json");
    await writeFile(body, JSON.stringify({ definition: { text } }));
    for (let i = 0; i < 2; i++) {
      const answer = await curl(
        `${cp.url}/deerflow.v1.WorkflowService/ValidateWorkflow`,
        [
          "-X",
          "POST",
          "-H",
          "content-type: application/json",
          "--data-binary",
          `@${body}`,
        ],
      );
      expect(answer.status).toBe(200);
      expect(answer.json()).toMatchObject({
        problems: [
          { message: expect.stringContaining("nested deeper than 32 levels") },
        ],
      });
    }
    const health = await curl(`${cp.url}/grpc.health.v1.Health/Check`, [
      "-X",
      "POST",
      "-H",
      "content-type: application/json",
      "-d",
      "{}",
    ]);
    expect(health.json()).toEqual({ status: "SERVING" });
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses run params nested too deep, naming them, and stores nothing", async () => {
    const definition = {
      name: "d",
      params: { p: 0 },
      tasks: [{ id: "a", type: "shell", command: "echo" }],
    };
    const error = await cp.clients.runs
      .startRun({
        workflow: {
          case: "definition",
          value: { source: { case: "document", value: definition } },
        },
        params: { p: nested(45) } as JsonObject,
      })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(error?.rawMessage).toMatch(/params\.p\[0\].*nested deeper/);
    const { runs } = await cp.clients.runs.listRuns({});
    expect(runs).toHaveLength(0);
  });
});
