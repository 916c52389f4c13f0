import { describe, expect, it } from "vitest";
import type { Clock } from "../core/index.js";
import { Batcher } from "./batcher.js";

/** A clock whose sleeps end when the test says so. */
function manualClock() {
  const sleepers: (() => void)[] = [];
  const clock: Clock = {
    now: () => 0,
    sleep: (_ms, signal) =>
      new Promise((resolve) => {
        sleepers.push(resolve);
        signal?.addEventListener("abort", () => resolve(), { once: true });
      }),
  };
  const wakeAll = async () => {
    for (const wake of sleepers.splice(0)) wake();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { clock, wakeAll };
}

describe("Batcher", () => {
  it("sends a full batch at once", () => {
    const { clock } = manualClock();
    const sent: number[][] = [];
    const batcher = new Batcher<number>(
      { maxItems: 3, intervalMs: 200, clock },
      (items) => sent.push(items),
    );
    for (const n of [1, 2, 3, 4]) batcher.push(n);
    expect(sent).toEqual([[1, 2, 3]]);
    batcher.flush();
    expect(sent).toEqual([[1, 2, 3], [4]]);
  });

  it("sends a partial batch when its interval ends", async () => {
    const { clock, wakeAll } = manualClock();
    const sent: string[][] = [];
    const batcher = new Batcher<string>(
      { maxItems: 100, intervalMs: 200, clock },
      (items) => sent.push(items),
    );
    batcher.push("a");
    batcher.push("b");
    expect(sent).toEqual([]);
    await wakeAll();
    expect(sent).toEqual([["a", "b"]]);
    batcher.flush();
    expect(sent).toHaveLength(1);
  });
});
