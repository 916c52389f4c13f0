/**
 * Why the agent aborted an attempt's signal:
 * - `timeout`: the task's timeout elapsed;
 * - `killed`: a user (or a drain past its grace) killed the attempt;
 * - `lost`: the agent could not renew the lease in time;
 * - `stale`: the control plane gave the attempt to a newer lease.
 */
export type TaskAbortReason = "timeout" | "killed" | "lost" | "stale";

const REASONS: ReadonlySet<string> = new Set<TaskAbortReason>([
  "timeout",
  "killed",
  "lost",
  "stale",
]);

/**
 * The reason an attempt's `ctx.signal` is aborted with. Plugins tell a
 * timeout from a kill with `TaskAbort.reasonOf(ctx.signal)`.
 */
export class TaskAbort extends Error {
  override readonly name = "TaskAbort";
  readonly reason: TaskAbortReason;

  constructor(reason: TaskAbortReason) {
    super(`attempt aborted: ${reason}`);
    this.reason = reason;
  }

  /**
   * The abort reason of a signal, or undefined while it is not aborted.
   * A signal aborted with anything but a TaskAbort counts as `killed`.
   * The check is by shape, not `instanceof`, so a TaskAbort from another
   * copy of the SDK is recognised too.
   */
  static reasonOf(signal: AbortSignal): TaskAbortReason | undefined {
    if (!signal.aborted) return undefined;
    const value: unknown = signal.reason;
    if (
      value instanceof Error &&
      value.name === "TaskAbort" &&
      "reason" in value &&
      typeof value.reason === "string" &&
      REASONS.has(value.reason)
    ) {
      return value.reason as TaskAbortReason;
    }
    return "killed";
  }
}
