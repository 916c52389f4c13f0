import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { spawnAgent, stopAllAgents } from "../support/agent-process.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import {
  type GrpcJsClient,
  type GrpcMessage,
  grpcJsClient,
  loadGrpcPackage,
} from "./grpc-js-client.js";
import { fromStruct, toStruct } from "./struct-value.js";

/** One event of WatchRun as proto-loader decodes it. */
interface WatchedEvent {
  sequence: string;
  kind: "run_state_changed" | "task_state_changed";
  run_state_changed?: { state: string };
  task_state_changed?: { task_id: string; state: string };
}

const DEFINITION = {
  name: "grpc-js-interop",
  params: { greeting: "hi" },
  tasks: [
    { id: "a", type: "shell", command: "echo ${params.greeting}" },
    { id: "b", type: "shell", command: "echo done", depends_on: ["a"] },
  ],
};

describe.each(testBackends())("a grpc-js client on $name", (backend) => {
  let cp: TestControlPlane | undefined;
  let runs: GrpcJsClient | undefined;

  afterEach(async () => {
    runs?.close();
    await stopAllAgents();
    await cp?.close();
  });

  it("starts a run from an inline Struct and watches it to SUCCESS", async () => {
    cp = await startTestControlPlane(backend);
    const pkg = loadGrpcPackage(["deerflow/v1/run.proto"]);
    runs = grpcJsClient(pkg, "deerflow.v1.RunService", cp.url);

    const started = await runs.unary("StartRun", {
      definition: { document: toStruct(DEFINITION) },
      params: toStruct({ greeting: "hello from grpc-js" }),
    });
    const run = started.run as GrpcMessage;
    expect(started.created).toBe(true);
    expect(typeof run.id).toBe("string");

    // The agent joins only once the stream is open, so the events after
    // QUEUED reach the client live rather than from the history.
    const stream = runs.serverStream("WatchRun", { run_id: run.id });
    const events: WatchedEvent[] = [];
    let agentStarted: Promise<unknown> | undefined;
    for await (const message of stream) {
      events.push((message as { event: WatchedEvent }).event);
      agentStarted ??= spawnAgent({ serverUrl: cp.url, name: "interop" });
    }
    await agentStarted;

    const last = events.at(-1);
    expect(last?.kind).toBe("run_state_changed");
    expect(last?.run_state_changed?.state).toBe("RUN_STATE_SUCCESS");
    const sequences = events.map((e) => BigInt(e.sequence));
    for (let i = 1; i < sequences.length; i++) {
      expect(sequences[i]).toBeGreaterThan(sequences[i - 1] ?? 0n);
    }
    for (const task of ["a", "b"]) {
      const states = taskStates(events, task);
      const queued = states.indexOf("TASK_STATE_QUEUED");
      const running = states.indexOf("TASK_STATE_RUNNING");
      const success = states.indexOf("TASK_STATE_SUCCESS");
      expect(queued, `task ${task}: ${states}`).toBeGreaterThanOrEqual(0);
      expect(running, `task ${task}: ${states}`).toBeGreaterThan(queued);
      expect(success, `task ${task}: ${states}`).toBeGreaterThan(running);
      expect(states.at(-1)).toBe("TASK_STATE_SUCCESS");
    }
    // b depends on a: it may not run before a has succeeded.
    expect(eventIndex(events, "b", "TASK_STATE_RUNNING")).toBeGreaterThan(
      eventIndex(events, "a", "TASK_STATE_SUCCESS"),
    );

    const read = await runs.unary("GetRun", { run_id: run.id });
    const final = read.run as { params: unknown; tasks: GrpcMessage[] };
    expect(fromStruct(final.params)).toEqual({
      greeting: "hello from grpc-js",
    });
    const a = final.tasks.find((t) => t.id === "a");
    expect(fromStruct(a?.output).stdout).toContain("hello from grpc-js");
  });

  it("ends a watch of a finished run after replaying its history", async () => {
    cp = await startTestControlPlane(backend);
    const pkg = loadGrpcPackage(["deerflow/v1/run.proto"]);
    runs = grpcJsClient(pkg, "deerflow.v1.RunService", cp.url);
    await spawnAgent({ serverUrl: cp.url, name: "interop" });
    const started = await runs.unary("StartRun", {
      definition: { document: toStruct(DEFINITION) },
    });
    const runId = (started.run as GrpcMessage).id;
    const first: WatchedEvent[] = [];
    for await (const m of runs.serverStream("WatchRun", { run_id: runId })) {
      first.push((m as { event: WatchedEvent }).event);
    }
    // A second watch from the middle gets exactly the rest, then ends.
    const middle = first[Math.floor(first.length / 2)];
    const rest = runs.serverStream("WatchRun", {
      run_id: runId,
      after_sequence: middle?.sequence,
    });
    const replayed: string[] = [];
    rest.on("data", (m: { event: WatchedEvent }) =>
      replayed.push(m.event.sequence),
    );
    await once(rest, "end");
    const expected = first
      .filter((e) => BigInt(e.sequence) > BigInt(middle?.sequence ?? 0))
      .map((e) => e.sequence);
    expect(replayed).toEqual(expected);
  });
});

function taskStates(events: WatchedEvent[], taskId: string): string[] {
  return events
    .filter((e) => e.task_state_changed?.task_id === taskId)
    .map((e) => e.task_state_changed?.state ?? "");
}

function eventIndex(
  events: WatchedEvent[],
  taskId: string,
  state: string,
): number {
  return events.findIndex(
    (e) =>
      e.task_state_changed?.task_id === taskId &&
      e.task_state_changed.state === state,
  );
}
