/**
 * Varied values and mangled bytes for the tests that compare the hand
 * session codecs with protobuf-es: both must give the same bytes, the
 * same values, and the same errors.
 */
import { type DescMessage, fromBinary } from "@bufbuild/protobuf";
import { expect } from "vitest";

/** A small deterministic generator (mulberry32), so failures repeat. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(next: () => number, values: readonly T[]): T {
  return values[Math.floor(next() * values.length)] as T;
}

export const STRINGS = [
  "",
  "noop",
  "process[999]",
  "0f8fad5b-d9cb-469f-a165-70867728950e",
  "ünïcödé",
  "日本語のタスク",
  "emoji 🦌",
  "lone \ud800 surrogate",
  "\ufeffbyte order mark",
  "nul \0 inside",
  "x".repeat(64),
  "x".repeat(65),
  "y".repeat(20_000),
];

/** int32 values, with the edges of each varint length. */
export const INTS = [
  0,
  1,
  127,
  128,
  16_384,
  30_000,
  2 ** 28 - 1,
  2 ** 28,
  2 ** 31 - 1,
  -1,
  -128,
  -(2 ** 31),
];

/** int64 values the hand codecs handle themselves. */
export const SMALL_INT64S = [
  0n,
  1n,
  127n,
  128n,
  2n ** 35n,
  BigInt(Number.MAX_SAFE_INTEGER),
];

/** int64 values the hand codecs leave to protobuf-es. */
export const LARGE_INT64S = [
  BigInt(Number.MAX_SAFE_INTEGER) + 1n,
  2n ** 63n - 1n,
  -1n,
  -(2n ** 63n),
];

export function randomMap(next: () => number): Record<string, string> {
  const map: Record<string, string> = {};
  const n = Math.floor(next() * 4);
  for (let i = 0; i < n; i++)
    map[`${pick(next, STRINGS)}${i}`] = pick(next, STRINGS);
  if (next() < 0.2) map[""] = "";
  return map;
}

export function randomBytes(next: () => number): Uint8Array {
  const length = pick(next, [0, 2, 127, 128, 300]);
  return Uint8Array.from({ length }, () => Math.floor(next() * 256));
}

/**
 * Bytes near `bytes`: cut short, with a byte changed, inserted or
 * removed, or with an unknown field or a wrong wire type appended.
 */
export function mangle(bytes: Uint8Array, next: () => number): Uint8Array {
  const at = Math.floor(next() * (bytes.length + 1));
  const byte = Math.floor(next() * 256);
  const copy = Array.from(bytes);
  switch (Math.floor(next() * 6)) {
    case 0:
      return bytes.subarray(0, at);
    case 1:
      if (at < copy.length) copy[at] = byte;
      break;
    case 2:
      copy.splice(at, 0, byte);
      break;
    case 3:
      copy.splice(at, 1);
      break;
    case 4:
      // Field 1000, varint: unknown to every session message.
      copy.push(0xc0, 0x3e, byte & 0x7f);
      break;
    default:
      // Field 1 as a varint, where each session message has a message.
      copy.push(0x08, byte & 0x7f);
  }
  return Uint8Array.from(copy);
}

/** What decoding gave: the value, or the error's class and message. */
function outcome(decode: () => unknown): unknown {
  try {
    return { value: decode() };
  } catch (error) {
    const e = error as Error;
    return { error: `${e.constructor.name}: ${e.message}` };
  }
}

/** `decode` reads `bytes` exactly as fromBinary does, or fails alike. */
export function expectSameDecoding<Desc extends DescMessage>(
  schema: Desc,
  decode: (bytes: Uint8Array) => unknown,
  bytes: Uint8Array,
): void {
  expect(outcome(() => decode(bytes))).toStrictEqual(
    outcome(() => fromBinary(schema, bytes)),
  );
}
