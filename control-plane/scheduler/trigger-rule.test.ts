import { describe, expect, it } from "vitest";
import type { TaskStateName } from "./states.js";
import {
  evaluateTriggerRule,
  type RuleVerdict,
  type TriggerRule,
} from "./trigger-rule.js";

/**
 * Upstream mixes, each named for the reader. "open" states (CREATED,
 * QUEUED, RUNNING, RETRY) are not done; KILLED and UPSTREAM_FAILED count
 * as failures.
 */
const MIXES: Record<string, TaskStateName[]> = {
  "no upstream": [],
  "all success": ["SUCCESS", "SUCCESS"],
  "one running": ["SUCCESS", "RUNNING"],
  "one retrying": ["SUCCESS", "RETRY"],
  "one failed, one running": ["FAILED", "RUNNING"],
  "one failed, one success": ["FAILED", "SUCCESS"],
  "all failed": ["FAILED", "FAILED"],
  "one killed, one success": ["KILLED", "SUCCESS"],
  "upstream failed and skipped": ["UPSTREAM_FAILED", "SKIPPED"],
  "one skipped, one success": ["SKIPPED", "SUCCESS"],
  "one skipped, one queued": ["SKIPPED", "QUEUED"],
  "all skipped": ["SKIPPED", "SKIPPED"],
  "one success, one created": ["SUCCESS", "CREATED"],
};

const VERDICTS: Record<TriggerRule, Record<string, RuleVerdict>> = {
  all_success: {
    "no upstream": "ready",
    "all success": "ready",
    "one running": "wait",
    "one retrying": "wait",
    // The rule is already lost: no need to wait for the rest.
    "one failed, one running": "upstream_failed",
    "one failed, one success": "upstream_failed",
    "all failed": "upstream_failed",
    "one killed, one success": "upstream_failed",
    "upstream failed and skipped": "upstream_failed",
    "one skipped, one success": "skipped",
    "one skipped, one queued": "skipped",
    "all skipped": "skipped",
    "one success, one created": "wait",
  },
  all_done: {
    "no upstream": "ready",
    "all success": "ready",
    "one running": "wait",
    "one retrying": "wait",
    "one failed, one running": "wait",
    "one failed, one success": "ready",
    "all failed": "ready",
    "one killed, one success": "ready",
    "upstream failed and skipped": "ready",
    "one skipped, one success": "ready",
    "one skipped, one queued": "wait",
    "all skipped": "ready",
    "one success, one created": "wait",
  },
  one_success: {
    // A root task runs whatever its rule says.
    "no upstream": "ready",
    "all success": "ready",
    "one running": "ready",
    "one retrying": "ready",
    "one failed, one running": "wait",
    "one failed, one success": "ready",
    "all failed": "upstream_failed",
    "one killed, one success": "ready",
    "upstream failed and skipped": "upstream_failed",
    "one skipped, one success": "ready",
    "one skipped, one queued": "wait",
    "all skipped": "skipped",
    "one success, one created": "ready",
  },
  one_failed: {
    "no upstream": "ready",
    "all success": "skipped",
    "one running": "wait",
    "one retrying": "wait",
    "one failed, one running": "ready",
    "one failed, one success": "ready",
    "all failed": "ready",
    "one killed, one success": "ready",
    "upstream failed and skipped": "ready",
    "one skipped, one success": "skipped",
    "one skipped, one queued": "wait",
    "all skipped": "skipped",
    "one success, one created": "wait",
  },
  none_failed: {
    "no upstream": "ready",
    "all success": "ready",
    "one running": "wait",
    "one retrying": "wait",
    "one failed, one running": "upstream_failed",
    "one failed, one success": "upstream_failed",
    "all failed": "upstream_failed",
    "one killed, one success": "upstream_failed",
    "upstream failed and skipped": "upstream_failed",
    "one skipped, one success": "ready",
    "one skipped, one queued": "wait",
    "all skipped": "ready",
    "one success, one created": "wait",
  },
};

const CASES = Object.entries(VERDICTS).flatMap(([rule, byMix]) =>
  Object.entries(byMix).map(
    ([mix, verdict]) => [rule as TriggerRule, mix, verdict] as const,
  ),
);

describe("evaluateTriggerRule", () => {
  it("covers every mix under every rule", () => {
    for (const byMix of Object.values(VERDICTS)) {
      expect(Object.keys(byMix).sort()).toEqual(Object.keys(MIXES).sort());
    }
  });

  it.each(CASES)("%s with %s: %s", (rule, mix, verdict) => {
    const upstream = MIXES[mix];
    if (!upstream) throw new Error(`unknown mix ${mix}`);
    expect(evaluateTriggerRule(rule, upstream)).toBe(verdict);
  });

  it("does not depend on the order of the upstream", () => {
    for (const [rule] of CASES) {
      for (const upstream of Object.values(MIXES)) {
        expect(evaluateTriggerRule(rule, [...upstream].reverse())).toBe(
          evaluateTriggerRule(rule, upstream),
        );
      }
    }
  });
});
