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
        const onAbort = () => {
          ctx.output({ aborted: TaskAbort.reasonOf(ctx.signal) ?? null });
          reject(ctx.signal.reason);
        };
        // A short timeout can fire before execute runs, on a busy host.
        if (ctx.signal.aborted) {
          onAbort();
          return;
        }
        void state.released.then(resolve);
        ctx.signal.addEventListener("abort", onAbort);
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
    onAgentDisconnect: "kill" | "keep_running";
    leaseTtlMs: number;
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
    onAgentDisconnect: fields.onAgentDisconnect ?? "kill",
    leaseTtlMs: fields.leaseTtlMs ?? 0,
  });
}

/** One line the captured logger wrote. */
export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/**
 * A logger whose records the test can read, and await: `next(msg)`
 * resolves with the first record of that message not yet claimed by an
 * earlier call, waiting for it when it has not been written yet.
 */
export function capturedLogger() {
  const records: LogRecord[] = [];
  const claimed = new Set<LogRecord>();
  const waiters: { msg: string; resolve: (record: LogRecord) => void }[] = [];
  const logger = pino(
    { level: "debug" },
    {
      write: (line: string) => {
        const record = JSON.parse(line) as LogRecord;
        records.push(record);
        const index = waiters.findIndex((w) => w.msg === record.msg);
        const waiter = waiters[index];
        if (waiter === undefined) return;
        waiters.splice(index, 1);
        claimed.add(record);
        waiter.resolve(record);
      },
    },
  );
  const next = (msg: string): Promise<LogRecord> => {
    const found = records.find((r) => r.msg === msg && !claimed.has(r));
    if (found !== undefined) {
      claimed.add(found);
      return Promise.resolve(found);
    }
    return new Promise((resolve) => waiters.push({ msg, resolve }));
  };
  return { logger, records, next };
}
