import { describe, expect, it } from "vitest";
import { runHeartbeats } from "./heartbeat-loop.js";
import { ManualClock } from "./manual-clock.js";

describe("runHeartbeats", () => {
  it("beats at once, then every interval, and not after the stream ends", async () => {
    const clock = new ManualClock(0);
    const stream = new AbortController();
    const beats: number[] = [];
    const loop = runHeartbeats({
      clock,
      intervalMs: 100,
      signal: stream.signal,
      beat: () => beats.push(clock.now()),
    });
    expect(beats).toEqual([0]);
    await clock.advance(250);
    expect(beats).toEqual([0, 100, 200]);
    stream.abort();
    await loop;
    await clock.advance(1_000);
    expect(beats).toEqual([0, 100, 200]);
  });

  it("does not beat on a stream that already ended", async () => {
    const stream = new AbortController();
    stream.abort();
    const beats: number[] = [];
    await runHeartbeats({
      clock: new ManualClock(),
      intervalMs: 100,
      signal: stream.signal,
      beat: () => beats.push(1),
    });
    expect(beats).toEqual([]);
  });
});
