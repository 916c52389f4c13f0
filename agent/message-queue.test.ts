import { describe, expect, it } from "vitest";
import { MessageQueue } from "./message-queue.js";

describe("MessageQueue", () => {
  it("yields what was pushed before and while it is read", async () => {
    const queue = new MessageQueue<number>();
    queue.push(1);
    const read = (async () => {
      const seen: number[] = [];
      for await (const n of queue) seen.push(n);
      return seen;
    })();
    queue.push(2);
    await new Promise((resolve) => setImmediate(resolve));
    queue.push(3);
    queue.end();
    queue.push(4);
    expect(await read).toEqual([1, 2, 3]);
    expect(queue.open).toBe(false);
  });

  it("ends when its reader stops or fails", async () => {
    const queue = new MessageQueue<string>();
    const iterator = queue[Symbol.asyncIterator]();
    await iterator.throw?.(new Error("call failed"));
    expect(queue.open).toBe(false);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });
});
