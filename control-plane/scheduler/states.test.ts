import { describe, expect, it } from "vitest";
import {
  assertTaskTransition,
  canTransitionTask,
  InvalidTransitionError,
  isTerminalRunState,
  isTerminalTaskState,
  LEASED_TASK_STATES,
  type RunStateName,
  type TaskStateName,
  taskTransitionsFrom,
} from "./states.js";

/**
 * The task lifecycle of SPEC §4 written out once more, by hand, so that a
 * change to the table in states.ts has to be made twice on purpose.
 */
const EXPECTED: Record<TaskStateName, TaskStateName[]> = {
  // Upstream done: scheduled, queued, skipped by condition or rule,
  // failed by a condition that cannot be evaluated, or killed by cancel.
  CREATED: [
    "SCHEDULED",
    "QUEUED",
    "SKIPPED",
    "UPSTREAM_FAILED",
    "FAILED",
    "KILLED",
  ],
  SCHEDULED: ["QUEUED", "KILLED"],
  QUEUED: ["ASSIGNED", "KILLED"],
  // Results may arrive before the acknowledgement; an unacknowledged
  // lease is revoked and the task requeued or retried.
  ASSIGNED: ["RUNNING", "QUEUED", "RETRY", "FAILED", "SUCCESS", "KILLED"],
  RUNNING: ["SUCCESS", "FAILED", "RETRY", "KILLED", "QUEUED"],
  RETRY: ["QUEUED", "KILLED"],
  SUCCESS: [],
  // Only a user's retry leaves these.
  FAILED: ["CREATED"],
  KILLED: ["CREATED"],
  SKIPPED: ["CREATED"],
  UPSTREAM_FAILED: ["CREATED"],
};

const TASK_STATES = Object.keys(EXPECTED) as TaskStateName[];
const TERMINAL_TASKS: TaskStateName[] = [
  "SUCCESS",
  "FAILED",
  "KILLED",
  "SKIPPED",
  "UPSTREAM_FAILED",
];

describe("task transitions", () => {
  it.each(TASK_STATES)("%s moves exactly where the lifecycle says", (from) => {
    expect([...taskTransitionsFrom(from)].sort()).toEqual(
      [...EXPECTED[from]].sort(),
    );
  });

  it("allows every listed pair and refuses every other one", () => {
    const allowed: string[] = [];
    for (const from of TASK_STATES) {
      for (const to of TASK_STATES) {
        if (canTransitionTask(from, to)) allowed.push(`${from}->${to}`);
      }
    }
    const expected = TASK_STATES.flatMap((from) =>
      EXPECTED[from].map((to) => `${from}->${to}`),
    );
    expect(allowed.sort()).toEqual(expected.sort());
  });

  it.each([
    ["CREATED", "RUNNING"],
    ["CREATED", "ASSIGNED"],
    ["QUEUED", "RUNNING"],
    ["QUEUED", "SUCCESS"],
    ["RETRY", "RUNNING"],
    ["SUCCESS", "QUEUED"],
    ["SUCCESS", "FAILED"],
    ["SKIPPED", "QUEUED"],
    ["FAILED", "RETRY"],
    ["RUNNING", "CREATED"],
  ] as [TaskStateName, TaskStateName][])(
    "refuses %s -> %s with an error naming both states",
    (from, to) => {
      expect(canTransitionTask(from, to)).toBe(false);
      let thrown: unknown;
      try {
        assertTaskTransition(from, to);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidTransitionError);
      expect(thrown).toMatchObject({
        from,
        to,
        message: `task cannot move from ${from} to ${to}`,
      });
    },
  );

  it("does not throw for an allowed transition", () => {
    expect(() => assertTaskTransition("QUEUED", "ASSIGNED")).not.toThrow();
  });

  it("no state moves to itself", () => {
    for (const state of TASK_STATES) {
      expect(canTransitionTask(state, state)).toBe(false);
    }
  });

  it("marks the five end states terminal", () => {
    const terminal = TASK_STATES.filter(isTerminalTaskState);
    expect(terminal.sort()).toEqual([...TERMINAL_TASKS].sort());
  });

  it("leaves a terminal state only towards a user's retry", () => {
    for (const state of TERMINAL_TASKS) {
      for (const to of taskTransitionsFrom(state)) {
        expect(["QUEUED", "CREATED"]).toContain(to);
      }
    }
  });

  it("reaches every terminal state from CREATED", () => {
    const seen = new Set<TaskStateName>(["CREATED"]);
    const queue: TaskStateName[] = ["CREATED"];
    for (let next = queue.shift(); next; next = queue.shift()) {
      for (const to of taskTransitionsFrom(next)) {
        if (!seen.has(to)) {
          seen.add(to);
          queue.push(to);
        }
      }
    }
    expect([...seen].sort()).toEqual([...TASK_STATES].sort());
  });

  it("holds leases in ASSIGNED and RUNNING only", () => {
    expect([...LEASED_TASK_STATES].sort()).toEqual(["ASSIGNED", "RUNNING"]);
  });
});

describe("run states", () => {
  it.each([
    ["PENDING", false],
    ["RUNNING", false],
    ["SUCCESS", true],
    ["FAILED", true],
    ["CANCELLED", true],
  ] as [RunStateName, boolean][])("%s terminal: %s", (state, terminal) => {
    expect(isTerminalRunState(state)).toBe(terminal);
  });
});
