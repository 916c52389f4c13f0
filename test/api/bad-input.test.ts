import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import {
  type GrpcJsClient,
  grpcError,
  grpcJsClient,
  loadGrpcPackage,
} from "./grpc-js-client.js";
import { toStruct } from "./struct-value.js";

const DEFINITION = {
  name: "bad-input",
  params: { date: "2026-01-01" },
  tasks: [{ id: "a", type: "shell", command: "echo ${params.date}" }],
};

describe.each(testBackends())("bad input from grpc-js on $name", (backend) => {
  let cp: TestControlPlane;
  let runs: GrpcJsClient;

  beforeAll(async () => {
    cp = await startTestControlPlane(backend);
    const pkg = loadGrpcPackage(["deerflow/v1/run.proto"]);
    runs = grpcJsClient(pkg, "deerflow.v1.RunService", cp.url);
  });

  afterAll(async () => {
    runs?.close();
    await cp?.close();
  });

  it("StartRun without a definition: InvalidArgument naming definition", async () => {
    const error = await grpcError(runs.unary("StartRun", {}));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/^definition: /m);
  });

  it("StartRun with an empty Definition: InvalidArgument naming definition", async () => {
    const error = await grpcError(runs.unary("StartRun", { definition: {} }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/^definition: /m);
  });

  it("StartRun with a syntax error: InvalidArgument naming definition.text", async () => {
    const error = await grpcError(
      runs.unary("StartRun", { definition: { text: "{" } }),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    // The position helps the author find the mistake.
    expect(error.details).toMatch(/^definition\.text: line 1:\d+: /m);
  });

  it("StartRun with an undeclared param: InvalidArgument naming it", async () => {
    const error = await grpcError(
      runs.unary("StartRun", {
        definition: { document: toStruct(DEFINITION) },
        params: toStruct({ date: "2026-02-02", dryrun: true }),
      }),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/^params\.dryrun: /m);
    expect(error.details).not.toContain("params.date");
  });

  it("StartRun with a NUL in a param or the definition: InvalidArgument naming where", async () => {
    const inParams = await grpcError(
      runs.unary("StartRun", {
        definition: { document: toStruct(DEFINITION) },
        params: toStruct({ date: "2026\u000002" }),
      }),
    );
    expect(inParams.code).toBe(status.INVALID_ARGUMENT);
    expect(inParams.details).toBe(
      "params.date: holds a NUL character (\\u0000), which cannot be stored",
    );
    const inDefinition = await grpcError(
      runs.unary("StartRun", {
        definition: {
          document: toStruct({
            ...DEFINITION,
            tasks: [{ id: "a", type: "shell", command: "echo \u0000" }],
          }),
        },
      }),
    );
    expect(inDefinition.code).toBe(status.INVALID_ARGUMENT);
    expect(inDefinition.details).toMatch(
      /^tasks\[0\]\.command: holds a NUL character/m,
    );
  });

  it("StartRun with a lone surrogate in JSON text: InvalidArgument naming where", async () => {
    // JSON text can spell one; PostgreSQL would refuse it as text.
    const text = JSON.stringify({
      ...DEFINITION,
      tasks: [{ id: "a", type: "shell", command: "echo \ud800" }],
    });
    expect(text).toContain("\\ud800");
    const error = await grpcError(
      runs.unary("StartRun", { definition: { text } }),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toMatch(
      /^tasks\[0\]\.command: holds a lone UTF-16 surrogate/m,
    );
  });

  it("StartRun reports every problem of a definition at once", async () => {
    const error = await grpcError(
      runs.unary("StartRun", {
        definition: {
          document: toStruct({
            name: "two-problems",
            tasks: [
              { id: "a", type: "shell", command: "true", depends_on: ["x"] },
              { id: "b", type: "no-such-type" },
            ],
          }),
        },
      }),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/^task a: depends_on/m);
    expect(error.details).toMatch(/^task b: type/m);
  });

  it("GetRun of a malformed id: InvalidArgument naming run_id", async () => {
    const error = await grpcError(
      runs.unary("GetRun", { run_id: "not-a-uuid" }),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toBe('run_id: "not-a-uuid" is not a valid id');
  });

  it("GetRun of an unknown id: NotFound", async () => {
    const id = randomUUID();
    const error = await grpcError(runs.unary("GetRun", { run_id: id }));
    expect(error.code).toBe(status.NOT_FOUND);
    expect(error.details).toContain(id);
  });

  it("WatchRun of an unknown id: NotFound on the stream", async () => {
    const stream = runs.serverStream("WatchRun", { run_id: randomUUID() });
    const error = await grpcError(stream.toArray());
    expect(error.code).toBe(status.NOT_FOUND);
  });

  it("WatchRun from a negative or too large event number: InvalidArgument naming after_sequence", async () => {
    for (const after of ["-5", "9223372036854775807"]) {
      const stream = runs.serverStream("WatchRun", {
        run_id: randomUUID(),
        after_sequence: after,
      });
      const error = await grpcError(stream.toArray());
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(error.details).toMatch(/^after_sequence: must /);
    }
  });

  it("CancelRun and KillTask with a NUL in their reason: InvalidArgument naming reason", async () => {
    const cancel = await grpcError(
      runs.unary("CancelRun", { run_id: randomUUID(), reason: "bad\u0000" }),
    );
    expect(cancel.code).toBe(status.INVALID_ARGUMENT);
    expect(cancel.details).toMatch(/^reason: /);
    const kill = await grpcError(
      runs.unary("KillTask", {
        run_id: randomUUID(),
        task_id: "a",
        reason: "bad\u0000",
      }),
    );
    expect(kill.code).toBe(status.INVALID_ARGUMENT);
    expect(kill.details).toMatch(/^reason: /);
  });

  it("stores nothing for a refused start", async () => {
    const { runs: listed } = (await runs.unary("ListRuns", {})) as {
      runs: unknown[];
    };
    expect(listed).toEqual([]);
  });
});
