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

  it("packs what queued up while its reader was busy", async () => {
    const queue = new MessageQueue<number[]>();
    queue.packing = {
      pack: (items) => items.flat(),
      weigh: () => 1,
      maxBytes: 100,
      maxItems: 100,
    };
    const iterator = queue[Symbol.asyncIterator]();
    queue.push([1]);
    queue.push([2]);
    expect(await iterator.next()).toEqual({ value: [1, 2], done: false });
    // A reader that waits gets the whole burst of one turn at once.
    const waiting = iterator.next();
    queue.push([3]);
    queue.push([4]);
    queue.push([5]);
    expect(await waiting).toEqual({ value: [3, 4, 5], done: false });
    // One item comes out as itself.
    queue.push([6]);
    expect(await iterator.next()).toEqual({ value: [6], done: false });
    queue.end();
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it("keeps its reader when an item cannot be weighed, sending that item alone", async () => {
    const queue = new MessageQueue<number[]>();
    queue.packing = {
      pack: (items) => items.flat(),
      weigh: (item) => {
        if (item[0] === 2) throw new Error("a getter threw");
        return 1;
      },
      maxBytes: 100,
      maxItems: 100,
    };
    const iterator = queue[Symbol.asyncIterator]();
    const waiting = iterator.next();
    queue.push([1]);
    queue.push([2]);
    queue.push([3]);
    expect(await waiting).toEqual({ value: [1], done: false });
    expect(await iterator.next()).toEqual({ value: [2], done: false });
    expect(await iterator.next()).toEqual({ value: [3], done: false });
  });
});
