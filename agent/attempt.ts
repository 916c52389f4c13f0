import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Clock } from "../core/index.js";
import type {
  Assignment,
  LeaseRef,
  Result,
} from "../gen/deerflow/v1/agent_pb.js";
import {
  AttemptOutcome,
  type LogLine,
  LogLineSchema,
  type MetricPoint,
  MetricPointSchema,
} from "../gen/deerflow/v1/run_pb.js";
import {
  type JsonObject,
  type Labels,
  type Plugin,
  TaskAbort,
  type TaskContext,
} from "../plugin-sdk/index.js";
import { taskContext } from "./attempt-context.js";
import {
  cutError,
  cutText,
  type Settled,
  settledResult,
  textOf,
  toJsonObject,
} from "./attempt-result.js";
import { Batcher } from "./batcher.js";
import type { AttemptLogger } from "./lazy-child-logger.js";
import { SecretRedactor } from "./redact-secrets.js";
import type { RenderTaskConfig } from "./render-task-config.js";
import { resultMessage } from "./result-message.js";
import { WorkDir } from "./work-dir.js";

/**
 * Why the agent stopped an attempt: the TaskAbort reasons, plus `drained`
 * for what a drain had to kill when its grace period ran out (the plugin
 * sees "killed"; the task is not the user's to have cancelled, so the
 * result asks for a retry elsewhere).
 */
export type AbortReason =
  | "timeout"
  | "killed"
  | "lost"
  | "stale"
  | "drained"
  /** An operator revoked the lease: recorded LOST, the task runs again. */
  | "revoked"
  /** The agent's close(): every attempt stops now. */
  | "closed";

/** Ends the attempt's own timer sleeps, which read no reason. */
const TIMERS_ENDED = "attempt finished";

/** What one attempt needs from the agent. */
export interface AttemptOptions {
  assignment: Assignment;
  plugin: Plugin;
  /** The attempt's work directory is created under it, removed after. */
  workRoot: string;
  clock: Clock;
  /** Scoped to the attempt (run_id, task_id, attempt, lease_id). */
  logger: AttemptLogger;
  renderConfig: RenderTaskConfig;
  sendLogs(lines: LogLine[]): void;
  sendMetrics(points: MetricPoint[]): void;
  /**
   * How long a plugin may take to stop after its signal aborts. Past it the
   * result is reported anyway so the slot and the lease do not hang on a
   * plugin that ignores its signal.
   */
  abortGraceMs: number;
}

const BATCH_MAX_ITEMS = 100;
const BATCH_INTERVAL_MS = 200;
/** Longer lines are cut: one line must not make a message too large. */
const MAX_LINE_CHARS = 16_384;
/**
 * Larger fields of a log line are replaced by their `_error`: a chunk of
 * BATCH_MAX_ITEMS lines must stay well under a request's 16 MiB.
 */
const MAX_LOG_FIELDS_BYTES = 8 * 1024;
/** Longer metric names are cut. */
const MAX_METRIC_NAME_CHARS = 256;

/**
 * A metric point's labels as text keys and values; labels larger than a
 * log line's fields may be are replaced by their `_error`.
 */
function metricLabels(labels: unknown): Record<string, string> {
  const json = toJsonObject(labels, MAX_LOG_FIELDS_BYTES);
  const text: Record<string, string> = {};
  for (const [key, value] of Object.entries(json)) {
    text[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return text;
}

/**
 * One attempt of a task on this agent: renders its config, runs the
 * plugin in a fresh work directory, streams its logs and metrics, and
 * turns the way it ended into a Result.
 */
export class Attempt {
  readonly lease: LeaseRef;
  /** The plugin's signal (`ctx.signal`): aborted to stop the attempt. */
  readonly controller = new AbortController();
  /**
   * Ends the attempt's own timers (its timeout, its abort grace) when it
   * finishes: one controller for both, made only when one is started, as
   * a busy agent runs thousands of short attempts a second and each
   * controller and abort costs.
   */
  private timers: AbortController | undefined;
  /** Settles once an abort's grace has run out (see {@link abort}). */
  private readonly graceOver: Promise<Settled>;
  private endGrace: (() => void) | undefined;
  private reason: AbortReason | undefined;
  private finished = false;
  private sequence = 0n;
  private readonly output: JsonObject = {};
  private readonly logs: Batcher<LogLine>;
  private readonly metrics: Batcher<MetricPoint>;
  /** Hides the attempt's secret values in all it sends. */
  private readonly redactor: SecretRedactor;
  /** What templates read: the assignment's context and the secrets. */
  readonly templateContext: JsonObject;

  constructor(private readonly options: AttemptOptions) {
    this.graceOver = new Promise((resolve) => {
      this.endGrace = () => resolve({ kind: "abandoned" });
    });
    const lease = options.assignment.lease;
    if (lease === undefined) throw new Error("assignment.lease is required");
    this.lease = lease;
    const secrets = { ...options.assignment.secrets };
    this.redactor = new SecretRedactor(secrets);
    this.templateContext = Object.assign({}, options.assignment.context, {
      secrets,
    });
    const batching = {
      maxItems: BATCH_MAX_ITEMS,
      intervalMs: BATCH_INTERVAL_MS,
      clock: options.clock,
    };
    this.logs = new Batcher(batching, options.sendLogs);
    this.metrics = new Batcher(batching, options.sendMetrics);
  }

  /** Why the attempt was aborted, if it was. */
  get abortReason(): AbortReason | undefined {
    return this.reason;
  }

  /**
   * Aborts the attempt's signal and starts its grace: a plugin still
   * running when the grace ends is abandoned. The first reason wins.
   */
  abort(reason: AbortReason): void {
    if (this.finished || this.reason !== undefined) return;
    this.reason = reason;
    this.options.logger.info({ reason }, "attempt aborted");
    this.controller.abort(
      new TaskAbort(
        reason === "drained" || reason === "closed" || reason === "revoked"
          ? "killed"
          : reason,
      ),
    );
    const timers = this.timersSignal();
    void this.options.clock
      .sleep(this.options.abortGraceMs, timers)
      .then(() => {
        if (!timers.aborted) this.endGrace?.();
      });
  }

  /** Runs the attempt to its end. Never rejects. */
  async run(): Promise<Result> {
    const { assignment, clock, logger } = this.options;
    const startedAtMs = clock.now();
    this.startTimeout(assignment.timeoutMs);
    logger.debug({ task_type: assignment.type }, "attempt started");
    let settled: Settled;
    try {
      settled = await this.execute();
    } catch (error) {
      settled = { kind: "threw", error };
    } finally {
      this.finished = true;
      // A reason, so abort() does not build an AbortError (with its stack
      // trace) that nothing reads.
      this.timers?.abort(TIMERS_ENDED);
      this.logs.flush();
      this.metrics.flush();
    }
    const result = this.resultOf(settled, startedAtMs);
    // A success is the common case of a busy agent and is in the run's
    // history anyway; the other outcomes are what operators look for.
    const level = result.outcome === AttemptOutcome.SUCCESS ? "debug" : "info";
    logger[level](
      { outcome: AttemptOutcome[result.outcome], retryable: result.retryable },
      "attempt finished",
    );
    return result;
  }

  /**
   * The attempt's Result. Whatever the plugin left (an error whose message
   * is no string, a getter that throws), this returns one: an attempt
   * that ended must report, or its task and its slot stay taken.
   */
  private resultOf(settled: Settled, startedAtMs: number): Result {
    const { assignment, clock } = this.options;
    try {
      let ended = settledResult(settled, this.reason, assignment.timeoutMs);
      const output = toJsonObject(this.output);
      if (
        ended.outcome === AttemptOutcome.SUCCESS &&
        typeof output._error === "string"
      ) {
        // An output the control plane cannot store fails the attempt: a
        // dependent reading it would otherwise fail later, far from here.
        ended = {
          outcome: AttemptOutcome.FAILED,
          exitCode: ended.exitCode,
          error: `output: ${output._error}`,
          retryable: false,
          retryClass: "error",
        };
      }
      return resultMessage(ended, {
        lease: this.lease,
        output: this.redactor.json(output),
        startedAtMs,
        finishedAtMs: clock.now(),
        error: cutError(this.redactor.text(ended.error ?? "")),
      });
    } catch (error) {
      return resultMessage(
        {
          outcome: AttemptOutcome.FAILED,
          retryable: false,
          retryClass: "error",
        },
        {
          lease: this.lease,
          output: {},
          startedAtMs,
          finishedAtMs: clock.now(),
          error: cutError(
            this.redactor.text(
              `the plugin's result could not be read: ${textOf(error)}`,
            ),
          ),
        },
      );
    }
  }

  private startTimeout(timeoutMs: number): void {
    if (timeoutMs <= 0) return;
    const timers = this.timersSignal();
    void this.options.clock.sleep(timeoutMs, timers).then(() => {
      if (!timers.aborted) this.abort("timeout");
    });
  }

  private timersSignal(): AbortSignal {
    this.timers ??= new AbortController();
    return this.timers.signal;
  }

  private async execute(): Promise<Settled> {
    const { assignment, plugin, renderConfig } = this.options;
    let config: JsonObject;
    try {
      config = renderConfig(
        assignment.config ?? {},
        plugin.configSchema,
        this.templateContext,
      );
    } catch (error) {
      return { kind: "config", error };
    }
    const workDir = new WorkDir(this.options.workRoot);
    try {
      const ctx = this.context(config, workDir);
      return await this.withAbortGrace(
        Promise.resolve().then(() => plugin.execute(ctx)),
      );
    } finally {
      await workDir
        .remove()
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error }, "work dir not removed"),
        );
    }
  }

  /**
   * Settles with the plugin, or `abandoned` when it outlives its abort by
   * the grace that {@link abort} starts.
   */
  private withAbortGrace(execution: Promise<unknown>): Promise<Settled> {
    const outcome = execution.then(
      (value): Settled => ({ kind: "resolved", value }),
      (error: unknown): Settled => ({ kind: "threw", error }),
    );
    return Promise.race([outcome, this.graceOver]);
  }

  private context(config: JsonObject, workDir: WorkDir): TaskContext {
    return taskContext(this, this.options.assignment, config, workDir);
  }

  /** ctx.output: adds the plugin's output fields. */
  addOutput(values: JsonObject): void {
    if (
      typeof values !== "object" ||
      values === null ||
      Array.isArray(values)
    ) {
      throw new TypeError(
        "ctx.output: values must be an object of output fields",
      );
    }
    // Own properties, "__proto__" too: assigning that one would set
    // the prototype, and the key would vanish unreported.
    for (const [key, value] of Object.entries(values)) {
      Object.defineProperty(this.output, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }

  line(
    stream: "stdout" | "stderr" | "log",
    message: string,
    level = "",
    fields?: JsonObject,
  ): void {
    this.sequence += 1n;
    this.logs.push(
      create(LogLineSchema, {
        attempt: this.options.assignment.attempt,
        sequence: this.sequence,
        time: timestampFromMs(this.options.clock.now()),
        stream,
        level,
        // Redacted before the cut, which could halve a value.
        message: cutText(this.redactor.text(String(message)), MAX_LINE_CHARS),
        fields:
          fields === undefined
            ? undefined
            : this.redactor.json(toJsonObject(fields, MAX_LOG_FIELDS_BYTES)),
      }),
    );
  }

  point(
    kind: "counter" | "gauge" | "timer",
    name: string,
    value: number,
    labels: Labels = {},
  ): void {
    const number = typeof value === "bigint" ? Number(value) : value;
    if (typeof number !== "number" || !Number.isFinite(number)) {
      throw new TypeError(
        `ctx.metrics.${kind}: the value must be a finite number, not ${textOf(value)}`,
      );
    }
    this.metrics.push(
      create(MetricPointSchema, {
        attempt: this.options.assignment.attempt,
        // Bounded like a log line's, so a batch stays well under a
        // request's limit; labels are text, as the message carries them.
        name: this.redactor.text(cutText(textOf(name), MAX_METRIC_NAME_CHARS)),
        kind,
        value: number,
        labels: this.redactor.json(metricLabels(labels)),
        time: timestampFromMs(this.options.clock.now()),
      }),
    );
  }
}
