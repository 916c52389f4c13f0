import { describe, expect, it } from "vitest";
import { findHistoryViolations } from "./history-violations.js";
import type { HistoryEvent, RunHistory } from "./run-history.js";

/** Task t: attempt 1 lost on agent a, attempt 2 succeeded on agent b. */
function retriedHistory(): RunHistory {
  const states: Array<[string, number, string]> = [
    ["QUEUED", 0, ""],
    ["ASSIGNED", 1, "a"],
    ["RUNNING", 1, "a"],
    ["RETRY", 1, "a"],
    ["QUEUED", 0, ""],
    ["ASSIGNED", 2, "b"],
    ["RUNNING", 2, "b"],
    ["SUCCESS", 2, "b"],
  ];
  return {
    runId: "r",
    events: states.map(([state, attempt, agentId], i) => ({
      sequence: i + 1,
      taskId: "t",
      state,
      attempt,
      agentId,
    })),
    tasks: [
      { taskId: "t", state: "SUCCESS", attemptCount: 2, output: { by: "b" } },
    ],
    attempts: [
      {
        taskId: "t",
        number: 1,
        leaseId: "l1",
        fencingToken: 1,
        agentId: "a",
        outcome: "LOST",
        exitCode: null,
        output: null,
      },
      {
        taskId: "t",
        number: 2,
        leaseId: "l2",
        fencingToken: 2,
        agentId: "b",
        outcome: "SUCCESS",
        exitCode: 0,
        output: { by: "b" },
      },
    ],
    leases: [
      {
        id: "l1",
        taskId: "t",
        attempt: 1,
        agentId: "a",
        fencingToken: 1,
        state: "EXPIRED",
      },
      {
        id: "l2",
        taskId: "t",
        attempt: 2,
        agentId: "b",
        fencingToken: 2,
        state: "RELEASED",
      },
    ],
  };
}

function event(
  sequence: number,
  state: string,
  attempt = 0,
  agentId = "",
): HistoryEvent {
  return { sequence, taskId: "t", state, attempt, agentId };
}

describe("findHistoryViolations", () => {
  it("finds nothing wrong with a lost attempt retried to success", () => {
    expect(findHistoryViolations(retriedHistory())).toEqual([]);
  });

  it("flags a transition out of a terminal state", () => {
    const h = retriedHistory();
    h.events.push(event(9, "QUEUED"));
    expect(findHistoryViolations(h)).toEqual([
      "task t: left terminal state SUCCESS for QUEUED (events 8 -> 9)",
    ]);
  });

  it("allows an explicit retry: terminal back to CREATED", () => {
    const h = retriedHistory();
    const failed = h.events.at(-1);
    if (failed) failed.state = "FAILED";
    h.events.push(event(9, "CREATED"));
    h.tasks[0] = {
      taskId: "t",
      state: "CREATED",
      attemptCount: 2,
      output: null,
    };
    const second = h.attempts[1];
    if (second) {
      second.outcome = "FAILED";
      second.output = null;
    }
    expect(findHistoryViolations(h)).toEqual([]);
  });

  it("flags attempts out of order and assigned twice", () => {
    const h = retriedHistory();
    const assigned = h.events[5];
    if (assigned) assigned.attempt = 3;
    expect(findHistoryViolations(h)).toEqual(
      expect.arrayContaining([
        "task t: assignment 2 (event 6) is numbered attempt 3",
        "task t: attempt 2 was assigned 0 times",
      ]),
    );
    const twice = retriedHistory();
    twice.events.splice(2, 0, event(2.5, "ASSIGNED", 1, "a"));
    expect(findHistoryViolations(twice)).toContain(
      "task t: attempt 1 was assigned 2 times",
    );
  });

  it("flags a fencing token that did not grow", () => {
    const h = retriedHistory();
    for (const row of [h.attempts[1], h.leases[1]]) {
      if (row) row.fencingToken = 1;
    }
    expect(findHistoryViolations(h)).toEqual([
      "task t: attempt 2's fencing token 1 did not grow",
    ]);
  });

  it("flags two successes", () => {
    const h = retriedHistory();
    const first = h.attempts[0];
    if (first) {
      first.outcome = "SUCCESS";
      first.output = { by: "a" };
    }
    const lease = h.leases[0];
    if (lease) lease.state = "RELEASED";
    h.events.splice(3, 1, event(4, "SUCCESS", 1, "a"));
    const found = findHistoryViolations(h);
    expect(found).toContain("task t: 2 SUCCESS events");
    expect(found).toContain("task t: 2 successful attempts (1, 2)");
  });

  it("flags a stale lease's result: an event and an output", () => {
    const late = retriedHistory();
    late.events.push(event(9, "RUNNING", 1, "a"));
    expect(findHistoryViolations(late)).toContain(
      "task t: event 9 (RUNNING) names attempt 1 while attempt 2 holds the task",
    );
    const kept = retriedHistory();
    const lost = kept.attempts[0];
    if (lost) lost.output = { by: "a" };
    expect(findHistoryViolations(kept)).toEqual([
      "task t: attempt 1's lease is EXPIRED but it has an output",
    ]);
    const overwritten = retriedHistory();
    const task = overwritten.tasks[0];
    if (task) task.output = { by: "a" };
    expect(findHistoryViolations(overwritten)).toEqual([
      'task t: output {"by":"a"} is not attempt 2\'s {"by":"b"}',
    ]);
  });
});
