import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const run = promisify(execFile);
const BUF = fileURLToPath(
  new URL("../../node_modules/.bin/buf", import.meta.url),
);

/**
 * `buf curl` (Go, the buf CLI from devDependencies) with no schema but
 * what server reflection tells it, as grpcurl works. Resolves with the
 * exit code and both outputs; a failed call is not an exception here.
 */
async function bufCurl(args: readonly string[]) {
  try {
    const { stdout, stderr } = await run(BUF, ["curl", ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout: string; stderr: string };
    if (typeof e.code !== "number") throw error;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const DEFINITION = {
  name: "buf-curl",
  tasks: [{ id: "a", type: "shell", command: "echo hi" }],
};

describe.each(testBackends())(
  "buf curl through reflection on $name",
  (backend) => {
    let cp: TestControlPlane;

    beforeAll(async () => {
      cp = await startTestControlPlane(backend);
    });

    afterAll(async () => {
      await cp?.close();
    });

    it("lists every method, resolving every listed service", async () => {
      const res = await bufCurl([
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        "--list-methods",
        cp.url,
      ]);
      expect(res.code, res.stderr).toBe(0);
      const methods = res.stdout.trim().split("\n");
      expect(methods).toEqual(
        expect.arrayContaining([
          "deerflow.v1.RunService/StartRun",
          "deerflow.v1.RunService/WatchRun",
          "deerflow.v1.AgentService/Session",
          "grpc.health.v1.Health/Check",
          "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        ]),
      );
    });

    it("starts a run over Connect and reads it over gRPC and gRPC-Web", async () => {
      const started = await bufCurl([
        "--protocol",
        "connect",
        "--data",
        JSON.stringify({ definition: { document: DEFINITION } }),
        `${cp.url}/deerflow.v1.RunService/StartRun`,
      ]);
      expect(started.code, started.stderr).toBe(0);
      const runId = (JSON.parse(started.stdout) as { run: { id: string } }).run
        .id;
      for (const protocol of [
        ["--protocol", "grpc", "--http2-prior-knowledge"],
        ["--protocol", "grpcweb"],
      ]) {
        const read = await bufCurl([
          ...protocol,
          "--data",
          JSON.stringify({ runId }),
          `${cp.url}/deerflow.v1.RunService/GetRun`,
        ]);
        expect(read.code, read.stderr).toBe(0);
        const { run } = JSON.parse(read.stdout) as {
          run: { id: string; workflowName: string };
        };
        expect(run).toMatchObject({ id: runId, workflowName: "buf-curl" });
      }
    });

    it("shows an error's code and the field it names", async () => {
      const res = await bufCurl([
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        "--data",
        JSON.stringify({ runId: "not-a-uuid" }),
        `${cp.url}/deerflow.v1.RunService/GetRun`,
      ]);
      expect(res.code).not.toBe(0);
      expect(JSON.parse(res.stderr)).toEqual({
        code: "invalid_argument",
        message: 'run_id: "not-a-uuid" is not a valid id',
      });
    });
  },
);
