import type { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import {
  type Run,
  type RunEvent,
  type RunService,
  RunState,
  RunView,
  TaskState,
} from "../gen/deerflow/v1/run_pb.js";
import { cutToWidth, formatTable } from "./format-table.js";

/**
 * Follows a run's events to its end, writing one line per task state
 * change, then returns the finished run. A control plane that goes away
 * meanwhile (a restart, a failover, its database's outage) is waited for:
 * the watch resumes after the last event it printed, for up to
 * {@link RECONNECT_FOR_MS} of unavailability in a row.
 */
export async function followRun(
  runs: Client<typeof RunService>,
  runId: string,
  out: Writable,
  options: FollowOptions = {},
): Promise<Run> {
  const { signal } = options;
  const started = Date.now();
  const stamp = () =>
    `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
  const reconnect = new Reconnect(runId, out, stamp, options);
  let after = 0n;
  for (;;) {
    try {
      // Back after an outage: a read proves it before any event would (a
      // quiet run sends none), so the next outage is counted anew.
      if (reconnect.lost) {
        await runs.getRun({ runId, view: RunView.BASIC }, { signal });
        reconnect.succeeded();
      }
      const events = runs.watchRun({ runId, afterSequence: after }, { signal });
      for await (const { event } of events) {
        reconnect.succeeded();
        if (event === undefined) continue;
        after = event.sequence;
        writeEvent(event, out, stamp);
      }
      break;
    } catch (error) {
      await reconnect.failed(error);
    }
  }
  for (;;) {
    try {
      const { run } = await runs.getRun({ runId }, { signal });
      if (!run) throw new Error(`run ${runId} vanished`);
      return run;
    } catch (error) {
      await reconnect.failed(error);
    }
  }
}

export interface FollowOptions {
  /** Stops the watch (Ctrl-C); the run goes on. */
  signal?: AbortSignal | undefined;
  /**
   * The caller has reached the control plane already (it started or
   * retried the run), so an unavailable one went away and is waited for.
   * Otherwise (`runs watch`) a first call that finds none fails at once:
   * a wrong --server is not an outage.
   */
  reached?: boolean;
}

function writeEvent(event: RunEvent, out: Writable, stamp: () => string) {
  if (event.kind.case === "taskStateChanged") {
    const t = event.kind.value;
    const attempt = t.attempt > 0 ? ` attempt ${t.attempt}` : "";
    const error = t.error ? `  ${firstLine(t.error)}` : "";
    out.write(
      `${stamp()}  ${t.taskId.padEnd(24)} ${TaskState[t.state].padEnd(15)}${attempt}${error}\n`,
    );
  } else if (event.kind.case === "runStateChanged") {
    const r = event.kind.value;
    out.write(
      `${stamp()}  run ${RunState[r.state]}${r.error ? `: ${r.error}` : ""}\n`,
    );
  }
}

/** How long a watch waits for a control plane that went away, in a row. */
export const RECONNECT_FOR_MS = 10 * 60_000;
/**
 * Waits between tries, the last repeated: a watch follows a control
 * plane back within 2 s, as agents holding leases do (a try is one
 * request; a few watchers' cost a server nothing).
 */
const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000];

/**
 * Decides what a failed call of a watch means: a control plane that is
 * unavailable, or ended the stream without being asked, is tried again
 * after a wait, said once per outage; anything else, an outage longer
 * than {@link RECONNECT_FOR_MS}, or the caller's own abort ends the watch.
 */
class Reconnect {
  private lostAt: number | undefined;
  private tries = 0;
  private reached: boolean;
  private readonly signal: AbortSignal | undefined;

  constructor(
    private readonly runId: string,
    private readonly out: Writable,
    private readonly stamp: () => string,
    options: FollowOptions,
  ) {
    this.reached = options.reached ?? false;
    this.signal = options.signal;
  }

  get lost(): boolean {
    return this.lostAt !== undefined;
  }

  succeeded(): void {
    this.reached = true;
    if (this.lostAt === undefined) return;
    this.out.write(`${this.stamp()}  (the control plane answers again)\n`);
    this.lostAt = undefined;
    this.tries = 0;
  }

  async failed(error: unknown): Promise<void> {
    const cause = ConnectError.from(error);
    // A killed control plane's streams end as cancelled (HTTP/2 CANCEL),
    // though nobody here cancelled them.
    const gone =
      cause.code === Code.Unavailable || cause.code === Code.Canceled;
    if (this.signal?.aborted || !gone || !this.reached) throw error;
    const now = Date.now();
    if (this.lostAt === undefined) {
      this.lostAt = now;
      this.out.write(
        `${this.stamp()}  (the control plane is unavailable: ${cause.rawMessage}; trying again)\n`,
      );
    } else if (now - this.lostAt > RECONNECT_FOR_MS) {
      throw new Error(
        `the control plane was unavailable for ${Math.round((now - this.lostAt) / 1000)} s ` +
          `(${cause.rawMessage}); the run goes on without this watch: ` +
          `follow it again with \`deerflow runs watch ${this.runId}\``,
      );
    }
    const wait =
      RECONNECT_DELAYS_MS[Math.min(this.tries, RECONNECT_DELAYS_MS.length - 1)];
    this.tries += 1;
    // An abort ends the wait early; the next call then fails and throws.
    await sleep(wait ?? 2000, undefined, { signal: this.signal }).catch(
      () => {},
    );
  }
}

/** Each task's final state, its agent and the error, as a table. */
export function formatTaskTable(run: Run): string {
  const rows = run.tasks.map((t) => [
    t.id,
    TaskState[t.state],
    String(t.attemptCount),
    t.agentName || "-",
    t.error ? firstLine(t.error) : shortOutput(t.output),
  ]);
  return formatTable(
    ["TASK", "STATE", "ATTEMPTS", "AGENT", "OUTPUT OR ERROR"],
    rows,
  );
}

/** The output without process tails, on one line, cut to fit. */
function shortOutput(output: Record<string, unknown> | undefined): string {
  if (!output) return "";
  const { stdout: _out, stderr: _err, exit_code: _code, ...rest } = output;
  const text = Object.keys(rest).length > 0 ? JSON.stringify(rest) : "";
  return cutToWidth(text, 60);
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return cutToWidth(line, 100);
}
