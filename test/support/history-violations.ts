import { isDeepStrictEqual } from "node:util";
import type {
  HistoryAttempt,
  HistoryEvent,
  HistoryLease,
  RunHistory,
} from "./run-history.js";

/**
 * Task states nothing leaves on its own (SPEC §4). Only an explicit retry
 * may take a task out of one, and it starts the task over: CREATED.
 */
const TERMINAL = new Set([
  "SUCCESS",
  "FAILED",
  "KILLED",
  "SKIPPED",
  "UPSTREAM_FAILED",
]);

/** Lease states that mean the holder lost it before a result arrived. */
const TAKEN_BACK = new Set(["EXPIRED", "REVOKED"]);

/** Outcomes the control plane records for an attempt it took back. */
const TAKEN_BACK_OUTCOMES = new Set(["LOST", "KILLED"]);

/**
 * Checks a run's history against the task lifecycle's invariants and
 * returns every violation found, each naming its task (empty: clean):
 *
 * - no transition out of a terminal state except an explicit retry
 *   (terminal -> CREATED);
 * - attempts numbered in order (1, 2, 3 per task), each assigned exactly
 *   once, under one lease whose fencing token grows with the number;
 * - at most one SUCCESS per task, in events and in attempts;
 * - no result from a stale lease: an event names only the task's latest
 *   attempt, a task's output equals its one SUCCESS attempt's output,
 *   and an attempt whose lease was taken back carries no result.
 */
export function findHistoryViolations(history: RunHistory): string[] {
  const problems: string[] = [];
  for (const task of history.tasks) {
    const id = task.taskId;
    const events = history.events.filter((e) => e.taskId === id);
    const tries = history.attempts
      .filter((a) => a.taskId === id)
      .sort((a, b) => a.number - b.number);
    const leases = history.leases.filter((l) => l.taskId === id);
    const say = (problem: string) => problems.push(`task ${id}: ${problem}`);
    checkTransitions(events, say);
    checkNumbering(events, tries, leases, task.attemptCount, say);
    checkSuccesses(events, tries, task.state, task.output, say);
    checkTakenBack(tries, leases, say);
  }
  const known = new Set(history.tasks.map((t) => t.taskId));
  for (const e of history.events) {
    if (!known.has(e.taskId)) {
      problems.push(`event ${e.sequence} names unknown task ${e.taskId}`);
    }
  }
  return problems;
}

type Say = (problem: string) => void;

function checkTransitions(events: readonly HistoryEvent[], say: Say): void {
  let previous: HistoryEvent | undefined;
  for (const event of events) {
    if (
      previous !== undefined &&
      TERMINAL.has(previous.state) &&
      event.state !== "CREATED"
    ) {
      say(
        `left terminal state ${previous.state} for ${event.state} ` +
          `(events ${previous.sequence} -> ${event.sequence})`,
      );
    }
    previous = event;
  }
}

function checkNumbering(
  events: readonly HistoryEvent[],
  tries: readonly HistoryAttempt[],
  leases: readonly HistoryLease[],
  attemptCount: number,
  say: Say,
): void {
  const assigned = events.filter((e) => e.state === "ASSIGNED");
  assigned.forEach((event, index) => {
    if (event.attempt !== index + 1) {
      say(
        `assignment ${index + 1} (event ${event.sequence}) is numbered ` +
          `attempt ${event.attempt}`,
      );
    }
  });
  if (tries.length !== attemptCount) {
    say(`attempt_count is ${attemptCount} but ${tries.length} attempts exist`);
  }
  let lastToken = Number.NEGATIVE_INFINITY;
  tries.forEach((attempt, index) => {
    const n = attempt.number;
    if (n !== index + 1) say(`attempt ${index + 1} is numbered ${n}`);
    const times = assigned.filter((e) => e.attempt === n).length;
    if (times !== 1) say(`attempt ${n} was assigned ${times} times`);
    const held = leases.filter((l) => l.attempt === n);
    const lease = held[0];
    if (held.length !== 1 || lease === undefined) {
      say(`attempt ${n} has ${held.length} leases`);
    } else if (
      lease.id !== attempt.leaseId ||
      lease.agentId !== attempt.agentId ||
      lease.fencingToken !== attempt.fencingToken
    ) {
      say(`attempt ${n} does not match its lease ${lease.id}`);
    }
    if (!(attempt.fencingToken > lastToken)) {
      say(`attempt ${n}'s fencing token ${attempt.fencingToken} did not grow`);
    }
    lastToken = attempt.fencingToken;
  });
  checkEventsNameLatestAttempt(events, say);
}

/** An event about attempt n after attempt n+1 was assigned is stale. */
function checkEventsNameLatestAttempt(
  events: readonly HistoryEvent[],
  say: Say,
): void {
  let latest = 0;
  for (const event of events) {
    if (event.state === "ASSIGNED") {
      latest = event.attempt;
    } else if (event.attempt !== 0 && event.attempt !== latest) {
      say(
        `event ${event.sequence} (${event.state}) names attempt ` +
          `${event.attempt} while attempt ${latest} holds the task`,
      );
    }
  }
}

function checkSuccesses(
  events: readonly HistoryEvent[],
  tries: readonly HistoryAttempt[],
  state: string,
  output: unknown,
  say: Say,
): void {
  const successEvents = events.filter((e) => e.state === "SUCCESS");
  const successes = tries.filter((a) => a.outcome === "SUCCESS");
  if (successEvents.length > 1) {
    say(`${successEvents.length} SUCCESS events`);
  }
  if (successes.length > 1) {
    say(
      `${successes.length} successful attempts ` +
        `(${successes.map((a) => a.number).join(", ")})`,
    );
  }
  const success = successes[0];
  if (state === "SUCCESS" && success === undefined) {
    say("is SUCCESS without a successful attempt");
  }
  if (success === undefined) {
    if (output !== null && output !== undefined) {
      say(`has output ${JSON.stringify(output)} but no successful attempt`);
    }
    return;
  }
  const event = successEvents[0];
  if (event !== undefined && event.attempt !== success.number) {
    say(
      `its SUCCESS event names attempt ${event.attempt}, but attempt ` +
        `${success.number} succeeded`,
    );
  }
  if (!isDeepStrictEqual(output ?? null, success.output ?? {})) {
    say(
      `output ${JSON.stringify(output)} is not attempt ${success.number}'s ` +
        `${JSON.stringify(success.output)}`,
    );
  }
}

/** A refused (late) result must leave no trace on its attempt. */
function checkTakenBack(
  tries: readonly HistoryAttempt[],
  leases: readonly HistoryLease[],
  say: Say,
): void {
  for (const attempt of tries) {
    const lease = leases.find((l) => l.id === attempt.leaseId);
    if (lease === undefined || !TAKEN_BACK.has(lease.state)) continue;
    const n = attempt.number;
    if (!TAKEN_BACK_OUTCOMES.has(attempt.outcome ?? "")) {
      say(
        `attempt ${n}'s lease is ${lease.state} but its outcome is ` +
          `${attempt.outcome}`,
      );
    }
    if (attempt.output !== null && attempt.output !== undefined) {
      say(`attempt ${n}'s lease is ${lease.state} but it has an output`);
    }
    if (attempt.exitCode !== null) {
      say(`attempt ${n}'s lease is ${lease.state} but it has an exit code`);
    }
  }
}
