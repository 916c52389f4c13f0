/**
 * What the agent's stand-in tests share: test plugins the test steers,
 * a captured logger, and assignments as the control plane would send them.
 */
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import {
  type Assignment,
  AssignmentSchema,
} from "../gen/deerflow/v1/agent_pb.js";
import {
  type JsonObject,
  type PluginFactory,
  TaskAbort,
} from "../plugin-sdk/index.js";

/** A `wait` attempt the test releases, or aborts through the agent. */
export interface Gate {
  started: Promise<void>;
  release(): void;
}

interface GateState extends Gate {
  markStarted(): void;
  released: Promise<void>;
}

const gates = new Map<string, GateState>();

/** The gate of the `wait` attempt of a task id. */
export function gate(taskId: string): Gate {
  let state = gates.get(taskId);
  if (state === undefined) {
    let markStarted = () => {};
    let release = () => {};
    state = {
      started: new Promise((resolve) => {
        markStarted = resolve;
      }),
      released: new Promise((resolve) => {
        release = resolve;
      }),
      markStarted: () => markStarted(),
      release: () => release(),
    };
    gates.set(taskId, state);
  }
  return state;
}

/**
 * `echo` writes to every stream and sets its output from its (rendered)
 * config; `wait` runs until its gate is released or its signal aborts,
 * and records the abort reason as output `aborted`.
 */
export const testPlugins: PluginFactory = (sdk) => [
  sdk.definePlugin<JsonObject>({
    type: "echo",
    version: "1.2.3",
    configSchema: {
      type: "object",
      properties: { message: { type: "string" } },
    },
    execute: async (ctx) => {
      ctx.streams.stdout("to stdout");
      ctx.streams.stderr("to stderr");
      ctx.log.info("to the log", { step: 1 });
      ctx.metrics.counter("items", 3, { kind: "test" });
      ctx.output({ message: ctx.config.message ?? null, dir: ctx.workDir });
      return { exitCode: 0 };
    },
  }),
  sdk.definePlugin<JsonObject>({
    type: "wait",
    version: "0.0.1",
    configSchema: { type: "object" },
    execute: async (ctx) => {
      const state = gate(ctx.taskId) as GateState;
      state.markStarted();
      await new Promise<void>((resolve, reject) => {
        void state.released.then(resolve);
        ctx.signal.addEventListener("abort", () => {
          ctx.output({ aborted: TaskAbort.reasonOf(ctx.signal) ?? null });
          reject(ctx.signal.reason);
        });
      });
      ctx.output({ released: true });
      return undefined;
    },
  }),
];

let leaseCounter = 0;

/** An assignment as the control plane sends it, with a fresh lease. */
export function assignment(
  type: string,
  fields: Partial<{
    taskId: string;
    config: JsonObject;
    params: JsonObject;
    timeoutMs: number;
  }> = {},
): Assignment {
  leaseCounter += 1;
  const taskId = fields.taskId ?? `task-${leaseCounter}`;
  return create(AssignmentSchema, {
    lease: { leaseId: `lease-${leaseCounter}`, fencingToken: 7n },
    runId: "run-1",
    taskId,
    attempt: 1,
    type,
    config: fields.config ?? {},
    context: {
      params: fields.params ?? {},
      tasks: {},
      run: { id: "run-1", name: "test", started_at: "2026-01-01T00:00:00Z" },
      task: { id: taskId, attempt: 1 },
    },
    env: {},
    timeoutMs: fields.timeoutMs ?? 0,
    ackDeadlineMs: 5_000,
  });
}

/** A logger whose records the test can read. */
export function capturedLogger() {
  const records: { level: number; msg: string; [key: string]: unknown }[] = [];
  const logger = pino(
    { level: "debug" },
    { write: (line: string) => records.push(JSON.parse(line)) },
  );
  return { logger, records };
}
