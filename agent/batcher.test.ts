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

  it("gives up the items taken out and sends the rest as before", async () => {
    const { clock, wakeAll } = manualClock();
    const sent: number[][] = [];
    const batcher = new Batcher<number>(
      { maxItems: 10, intervalMs: 2, clock },
      (items) => sent.push(items),
    );
    for (const n of [1, 2, 3, 4]) batcher.push(n);
    expect(batcher.take((n) => n % 2 === 0)).toEqual([2, 4]);
    expect(batcher.take((n) => n === 9)).toEqual([]);
    expect(sent).toEqual([]);
    await wakeAll();
    expect(sent).toEqual([[1, 3]]);
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
