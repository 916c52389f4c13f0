import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RunService,
  RunState,
  TaskState,
} from "../../gen/deerflow/v1/run_pb.js";
import { DefinitionSchema } from "../../gen/deerflow/v1/workflow_pb.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const DEFINITION = {
  name: "grpc-web-interop",
  tasks: [{ id: "a", type: "shell", command: "echo hi" }],
};

describe.each(testBackends())("gRPC-Web over fetch on $name", (backend) => {
  let cp: TestControlPlane;
  /** The Content-Type of every request the transports sent. */
  const sent: string[] = [];
  // Node 20's fetch (undici) speaks HTTP/1.1 only, so these calls reach
  // the port's HTTP/1.1 side, as a browser without HTTP/2 would.
  const recordingFetch: typeof fetch = (input, init) => {
    sent.push(new Headers(init?.headers).get("content-type") ?? "");
    return fetch(input, init);
  };
  const client = (useBinaryFormat: boolean) =>
    createClient(
      RunService,
      createGrpcWebTransport({
        baseUrl: cp.url,
        useBinaryFormat,
        fetch: recordingFetch,
      }),
    );

  beforeAll(async () => {
    cp = await startTestControlPlane(backend);
  });

  afterAll(async () => {
    await cp?.close();
  });

  it("starts, lists and reads runs in the binary format", async () => {
    sent.length = 0;
    const runs = client(true);
    const { run } = await runs.startRun({
      workflow: {
        case: "definition",
        value: create(DefinitionSchema, {
          source: { case: "document", value: DEFINITION },
        }),
      },
    });
    const listed = await runs.listRuns({});
    expect(listed.runs.map((r) => r.id)).toContain(run?.id);
    const read = await runs.getRun({ runId: run?.id ?? "" });
    expect(read.run?.workflowName).toBe("grpc-web-interop");
    expect(read.run?.tasks[0]?.state).toBe(TaskState.QUEUED);
    expect(new Set(sent)).toEqual(new Set(["application/grpc-web+proto"]));
  });

  it("reads runs and streams a watch in the JSON format", async () => {
    sent.length = 0;
    const runs = client(false);
    const { run } = await runs.startRun({
      workflow: {
        case: "definition",
        value: create(DefinitionSchema, {
          source: { case: "text", value: JSON.stringify(DEFINITION) },
        }),
      },
    });
    const runId = run?.id ?? "";
    const listed = await runs.listRuns({ states: [RunState.RUNNING] });
    expect(listed.runs.map((r) => r.id)).toContain(runId);
    await runs.cancelRun({ runId, reason: "grpc-web test" });
    // A server stream over HTTP/1.1: the history, ending with the run's
    // terminal state.
    const states: RunState[] = [];
    for await (const { event } of runs.watchRun({ runId })) {
      if (event?.kind.case === "runStateChanged") {
        states.push(event.kind.value.state);
      }
    }
    expect(states.at(-1)).toBe(RunState.CANCELLED);
    expect(new Set(sent)).toEqual(new Set(["application/grpc-web+json"]));
  });

  it("carries errors with their code and the field's name", async () => {
    const runs = client(true);
    const error = await runs.getRun({ runId: "not-a-uuid" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(error?.rawMessage).toMatch(/^run_id: /);
  });
});
