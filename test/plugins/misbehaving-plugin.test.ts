import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunState, TaskState } from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { startInline, waitForRun } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

/** A plugin that misbehaves in the ways its config asks for. */
const PLUGIN = `export default (sdk) => sdk.definePlugin({
  type: "unruly", version: "1.0.0",
  configSchema: { type: "object", properties: { how: { type: "string" } }, additionalProperties: false },
  async execute(ctx) {
    const how = ctx.config.how;
    if (how === "stray-rejection") { Promise.reject(new Error("nobody awaits me")); }
    if (how === "timer-throw") { setTimeout(() => { throw new Error("thrown from a timer"); }, 1); }
    if (how === "bigint-output") { ctx.output({ n: 10n }); }
    if (how === "array-output") { ctx.output([1, 2, 3]); }
    await new Promise((r) => setTimeout(r, 50));
  },
});
`;

describe.each(testBackends())("a misbehaving plugin on $name", (backend) => {
  let cp: TestControlPlane;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "deerflow-unruly-"));
    await writeFile(join(dir, "unruly.mjs"), PLUGIN);
    cp = await startTestControlPlane(backend);
    await spawnAgent({
      serverUrl: cp.url,
      name: "host",
      args: ["--plugins", dir],
    });
    await waitForAgents(cp.clients, ["host"]);
  });
  afterAll(async () => {
    await stopAllAgents();
    await cp.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("cannot crash the agent with a stray rejection or a throw from a timer", async () => {
    const runId = await startInline(cp.clients, {
      name: "stray-errors",
      tasks: [
        { id: "reject", type: "unruly", how: "stray-rejection" },
        {
          id: "throw",
          type: "unruly",
          how: "timer-throw",
          depends_on: ["reject"],
        },
        {
          id: "after",
          type: "shell",
          command: "echo still here",
          depends_on: ["throw"],
        },
      ],
    });
    const run = await waitForRun(cp.clients, runId);
    expect(run.state).toBe(RunState.SUCCESS);
    expect(run.tasks.find((t) => t.id === "after")?.output?.stdout).toContain(
      "still here",
    );
  });

  it("fails an attempt whose output cannot be stored, naming output", async () => {
    const runId = await startInline(cp.clients, {
      name: "bad-output",
      tasks: [
        { id: "bigint", type: "unruly", how: "bigint-output" },
        { id: "array", type: "unruly", how: "array-output" },
      ],
    });
    const run = await waitForRun(cp.clients, runId);
    const bigint = run.tasks.find((t) => t.id === "bigint");
    const array = run.tasks.find((t) => t.id === "array");
    expect(bigint?.state).toBe(TaskState.FAILED);
    expect(bigint?.error).toMatch(/^output: not JSON/);
    expect(array?.state).toBe(TaskState.FAILED);
    expect(array?.error).toContain("ctx.output: values must be an object");
  });
});
