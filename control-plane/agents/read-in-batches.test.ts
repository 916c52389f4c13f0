import { describe, expect, it } from "vitest";
import { AsyncQueue } from "../../core/index.js";
import { readInBatches } from "./read-in-batches.js";

const asChunk = (chunk: number[]) => chunk;

describe("readInBatches", () => {
  it("hands over what arrived while the last batch was handled, in order", async () => {
    const source = new AsyncQueue<number[]>();
    const batches: number[][] = [];
    let release: (() => void) | undefined;
    const reading = readInBatches(
      source[Symbol.asyncIterator](),
      asChunk,
      3,
      async (batch) => {
        batches.push(batch);
        if (batches.length === 1) {
          // Busy with the first batch while four more arrive.
          await new Promise<void>((resolve) => {
            release = resolve;
          });
        }
      },
    );
    source.push([1]);
    while (release === undefined) await new Promise((r) => setTimeout(r, 1));
    for (const n of [2, 3, 4, 5]) source.push([n]);
    await new Promise((r) => setTimeout(r, 10));
    release();
    await new Promise((r) => setTimeout(r, 10));
    source.close();
    await reading;
    expect(batches).toEqual([[1], [2, 3, 4], [5]]);
  });

  it("takes a chunk of 200,000 messages, handed over in batches", async () => {
    const source = new AsyncQueue<number[]>();
    source.push(Array.from({ length: 200_000 }, (_, i) => i));
    source.close();
    let count = 0;
    let largest = 0;
    await readInBatches(
      source[Symbol.asyncIterator](),
      asChunk,
      256,
      async (batch) => {
        count += batch.length;
        largest = Math.max(largest, batch.length);
      },
    );
    expect({ count, largest }).toEqual({ count: 200_000, largest: 256 });
  });

  it("handles what arrived before the source failed, then rejects with its error", async () => {
    const source = new AsyncQueue<number[]>();
    const seen: number[] = [];
    source.push([1]);
    source.push([2]);
    source.close(new Error("stream broke"));
    await expect(
      readInBatches(
        source[Symbol.asyncIterator](),
        asChunk,
        10,
        async (batch) => {
          seen.push(...batch);
        },
      ),
    ).rejects.toThrow("stream broke");
    expect(seen).toEqual([1, 2]);
  });

  it("hands over a chunk that arrived at once as one batch", async () => {
    const source = new AsyncQueue<number[]>();
    const batches: number[][] = [];
    source.push([1, 2, 3]);
    source.push([4, 5, 6, 7, 8]);
    source.close();
    await readInBatches(
      source[Symbol.asyncIterator](),
      asChunk,
      4,
      async (batch) => {
        batches.push(batch);
      },
    );
    // The first chunk whole; the second split only at the limit.
    expect(batches[0]).toEqual([1, 2, 3]);
    expect(batches.flat()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Math.max(...batches.map((b) => b.length))).toBe(4);
  });

  it("rejects with unpack's error after what came before it", async () => {
    const source = new AsyncQueue<number[]>();
    const seen: number[] = [];
    source.push([1]);
    source.push([]);
    source.push([3]);
    const unpack = (chunk: number[]) => {
      if (chunk.length === 0) throw new Error("an empty chunk");
      return chunk;
    };
    await expect(
      readInBatches(source[Symbol.asyncIterator](), unpack, 10, async (b) => {
        seen.push(...b);
      }),
    ).rejects.toThrow("an empty chunk");
    expect(seen).toEqual([1]);
  });
});
