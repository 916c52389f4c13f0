import { describe, expect, it } from "vitest";
import { StreamDemuxer, type StreamName } from "./stream-demuxer.js";

function frame(type: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

function collect() {
  const seen: { stdout: string; stderr: string } = { stdout: "", stderr: "" };
  const demuxer = new StreamDemuxer((name: StreamName, chunk: Buffer) => {
    seen[name] += chunk.toString();
  });
  return { seen, demuxer };
}

describe("StreamDemuxer", () => {
  const stream = Buffer.concat([
    frame(1, "out one\n"),
    frame(2, "err one\n"),
    frame(1, "out two\n"),
    frame(3, "engine\n"),
    frame(1, ""),
    frame(2, "héllo ✓\n"),
  ]);

  it("sends each frame's payload to its stream", () => {
    const { seen, demuxer } = collect();
    demuxer.push(stream);
    expect(seen).toEqual({
      stdout: "out one\nout two\n",
      stderr: "err one\nengine\nhéllo ✓\n",
    });
    expect(demuxer.pendingBytes).toBe(0);
  });

  it("reassembles frames cut at every possible byte", () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const { seen, demuxer } = collect();
      demuxer.push(stream.subarray(0, cut));
      demuxer.push(stream.subarray(cut));
      expect(seen.stdout, `cut at ${cut}`).toBe("out one\nout two\n");
      expect(seen.stderr, `cut at ${cut}`).toBe("err one\nengine\nhéllo ✓\n");
    }
  });

  it("takes one byte at a time", () => {
    const { seen, demuxer } = collect();
    for (const byte of stream) demuxer.push(Buffer.from([byte]));
    expect(seen.stdout).toBe("out one\nout two\n");
  });

  it("passes a stream that is not multiplexed through as stdout", () => {
    const { seen, demuxer } = collect();
    demuxer.push(Buffer.from("plain tty output\n"));
    demuxer.push(Buffer.from("more\n"));
    expect(seen).toEqual({ stdout: "plain tty output\nmore\n", stderr: "" });
  });

  it("holds a partial frame until the rest arrives", () => {
    const { seen, demuxer } = collect();
    const one = frame(1, "abc");
    demuxer.push(one.subarray(0, 9));
    expect(seen.stdout).toBe("");
    expect(demuxer.pendingBytes).toBe(9);
    demuxer.push(one.subarray(9));
    expect(seen.stdout).toBe("abc");
  });
});
