import type { TaskStateName } from "./states.js";

/** When a task may run, given how its upstream ended (SPEC §3). */
export type TriggerRule =
  | "all_success"
  | "all_done"
  | "one_success"
  | "one_failed"
  | "none_failed";

/** What a rule says about a task whose upstream has these states. */
export type RuleVerdict =
  /** Some upstream is not done and the answer depends on it. */
  | "wait"
  | "ready"
  /** The rule can no longer be met because upstream failed. */
  | "upstream_failed"
  /** The rule can no longer be met because upstream was skipped. */
  | "skipped";

const FAILED: ReadonlySet<TaskStateName> = new Set([
  "FAILED",
  "UPSTREAM_FAILED",
  "KILLED",
]);
const DONE: ReadonlySet<TaskStateName> = new Set([
  "SUCCESS",
  "FAILED",
  "UPSTREAM_FAILED",
  "KILLED",
  "SKIPPED",
]);

/** Decides a trigger rule over the states of a task's direct upstream. */
export function evaluateTriggerRule(
  rule: TriggerRule,
  upstream: readonly TaskStateName[],
): RuleVerdict {
  // A task with no upstream has nothing to wait for or to lose, whatever
  // its rule (a workflow's `defaults` may give every task one_success).
  if (upstream.length === 0) return "ready";
  const count = (p: (s: TaskStateName) => boolean) => upstream.filter(p).length;
  const done = count((s) => DONE.has(s));
  const success = count((s) => s === "SUCCESS");
  const failed = count((s) => FAILED.has(s));
  const skipped = count((s) => s === "SKIPPED");
  const allDone = done === upstream.length;
  switch (rule) {
    case "all_success":
      if (failed > 0) return "upstream_failed";
      if (skipped > 0) return "skipped";
      return allDone ? "ready" : "wait";
    case "all_done":
      return allDone ? "ready" : "wait";
    case "one_success":
      if (success > 0) return "ready";
      if (!allDone) return "wait";
      return failed > 0 ? "upstream_failed" : "skipped";
    case "one_failed":
      if (failed > 0) return "ready";
      return allDone ? "skipped" : "wait";
    case "none_failed":
      if (failed > 0) return "upstream_failed";
      return allDone ? "ready" : "wait";
  }
}
