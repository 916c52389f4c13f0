import { describe, expect, it } from "vitest";
import { AsyncQueue } from "./async-queue.js";

describe("AsyncQueue", () => {
  it("yields items one by one, then ends or fails as closed", async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    queue.push(2);
    queue.close();
    queue.push(3);
    const seen: number[] = [];
    for await (const n of queue) seen.push(n);
    expect(seen).toEqual([1, 2]);
    const failing = new AsyncQueue<number>();
    const iterator = failing[Symbol.asyncIterator]();
    const waiting = iterator.next();
    failing.close(new Error("stream broke"));
    await expect(waiting).rejects.toThrow("stream broke");
  });

  it("packs what queued up, and a waiting reader gets one turn's burst", async () => {
    const queue = new AsyncQueue<string>();
    queue.packing = {
      pack: (items) => items.join("+"),
      weigh: () => 1,
      maxBytes: 100,
      maxItems: 100,
    };
    const iterator = queue[Symbol.asyncIterator]();
    queue.push("a");
    queue.push("b");
    expect(await iterator.next()).toEqual({ value: "a+b", done: false });
    const waiting = iterator.next();
    queue.push("c");
    queue.push("d");
    expect(await waiting).toEqual({ value: "c+d", done: false });
    queue.push("e");
    expect(await iterator.next()).toEqual({ value: "e", done: false });
    queue.push("f");
    queue.close();
    expect(await iterator.next()).toEqual({ value: "f", done: false });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });
});
