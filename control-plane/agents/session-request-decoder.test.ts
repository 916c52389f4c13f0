import {
  create,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import {
  type SessionRequest,
  SessionRequestSchema,
} from "../../gen/deerflow/v1/agent_pb.js";
import { AttemptOutcome } from "../../gen/deerflow/v1/run_pb.js";
import {
  expectSameDecoding,
  INTS,
  LARGE_INT64S,
  mangle,
  pick,
  random,
  SMALL_INT64S,
  STRINGS,
} from "../../test/support/proto-fuzz.js";
import {
  decodeSessionRequest,
  decodeSessionRequestByHand,
} from "./session-request-decoder.js";

type Message = NonNullable<
  MessageInitShape<typeof SessionRequestSchema>["message"]
>;

/** Non-negative int32s: the ones the hand decoder reads itself. */
const COUNTS = INTS.filter((n) => n >= 0);
const TIMES = [0, 1, 999, 1_700_000_000_123, 253_402_300_799_999];

function lease(next: () => number, tokens = SMALL_INT64S) {
  return { leaseId: pick(next, STRINGS), fencingToken: pick(next, tokens) };
}

function maybe<T>(next: () => number, value: () => T): T | undefined {
  return next() < 0.8 ? value() : undefined;
}

/** A hot message of a random kind, with values the hand decoder reads. */
function hotMessage(next: () => number, ints = COUNTS): Message {
  const kinds: (() => Message)[] = [
    () => ({
      case: "acknowledge",
      value: { lease: maybe(next, () => lease(next)) },
    }),
    () => ({
      case: "credit",
      value: {
        freeSlots: pick(next, ints),
        assignmentsReceived: pick(next, SMALL_INT64S),
        draining: next() < 0.5,
      },
    }),
    () => ({
      case: "heartbeat",
      value: { leases: Array.from({ length: next() * 4 }, () => lease(next)) },
    }),
    () => ({
      case: "reject",
      value: { lease: lease(next), reason: pick(next, STRINGS) },
    }),
    () => ({
      case: "result",
      value: {
        lease: maybe(next, () => lease(next)),
        outcome: pick(next, [0, 1, 2, 3, 4, 5, 77]) as AttemptOutcome,
        exitCode: maybe(next, () => pick(next, ints)),
        output: maybe(next, () => ({})),
        error: pick(next, STRINGS),
        retryable: next() < 0.5,
        retryClass: pick(next, STRINGS),
        startedAt: maybe(next, () => timestampFromMs(pick(next, TIMES))),
        finishedAt: maybe(next, () => timestampFromMs(pick(next, TIMES))),
        retryAfterMs: pick(next, ints),
      },
    }),
    () => ({
      case: "logChunk",
      value: {
        lease: maybe(next, () => lease(next)),
        lines: Array.from({ length: next() * 3 }, (_, i) => ({
          attempt: pick(next, ints),
          sequence: BigInt(i + 1),
          time: maybe(next, () => timestampFromMs(pick(next, TIMES))),
          stream: pick(next, ["stdout", "stderr", "log", ""]),
          level: pick(next, ["", "info", "warn"]),
          message: pick(next, STRINGS),
          fields: next() < 0.2 ? {} : undefined,
        })),
      },
    }),
  ];
  return pick(next, kinds)();
}

function request(message: Message): SessionRequest {
  return create(SessionRequestSchema, { message });
}

function batchOf(messages: Message[]): SessionRequest {
  return request({
    case: "batch",
    value: { messages: messages.map((message) => ({ message })) },
  });
}

function randomBatch(next: () => number, ints = COUNTS): SessionRequest {
  const n = Math.floor(next() * 40);
  return batchOf(Array.from({ length: n }, () => hotMessage(next, ints)));
}

function bytesOf(message: SessionRequest): Uint8Array {
  return toBinary(SessionRequestSchema, message);
}

/** Read by hand, with the same value fromBinary gives. */
function expectReadByHand(message: SessionRequest): void {
  const bytes = bytesOf(message);
  const expected = fromBinary(SessionRequestSchema, bytes);
  expect(decodeSessionRequestByHand(bytes)).toStrictEqual(expected);
  expect(decodeSessionRequest(bytes)).toStrictEqual(expected);
}

describe("decodeSessionRequest", () => {
  it("reads the hot kinds by hand, value for value as fromBinary", () => {
    const next = random(11);
    for (let i = 0; i < 500; i++) expectReadByHand(request(hotMessage(next)));
    expectReadByHand(request({ case: undefined }));
  });

  it("reads batches mixing the hot kinds by hand", () => {
    const next = random(12);
    for (let i = 0; i < 100; i++) expectReadByHand(randomBatch(next));
    expectReadByHand(batchOf([]));
  });

  it("keeps an exit code of 0 apart from none", () => {
    const zero = decodeSessionRequestByHand(
      bytesOf(request({ case: "result", value: { exitCode: 0 } })),
    );
    const none = decodeSessionRequestByHand(
      bytesOf(request({ case: "result", value: {} })),
    );
    expect(zero.message.value).toHaveProperty("exitCode", 0);
    expect(none.message.value).not.toHaveProperty("exitCode");
  });

  it("leaves what it does not read to fromBinary, with the same values", () => {
    const next = random(13);
    const others: Message[] = [
      { case: "hello", value: { agentId: "a", labels: { os: "linux" } } },
      { case: "metricBatch", value: { points: [{ name: "m", value: 1.5 }] } },
      { case: "result", value: { output: { rows: 3, list: [1, "a"] } } },
      {
        case: "result",
        value: { outcome: AttemptOutcome.FAILED, exitCode: -1 },
      },
      {
        case: "logChunk",
        value: { lines: [{ sequence: 1n, fields: { a: null } }] },
      },
      { case: "credit", value: { freeSlots: -3 } },
    ];
    for (const message of others) {
      expectSameDecoding(
        SessionRequestSchema,
        decodeSessionRequest,
        bytesOf(request(message)),
      );
      expectSameDecoding(
        SessionRequestSchema,
        decodeSessionRequest,
        bytesOf(batchOf([hotMessage(next), message, hotMessage(next)])),
      );
    }
    for (const token of LARGE_INT64S) {
      const message: Message = {
        case: "acknowledge",
        value: { lease: { leaseId: "l", fencingToken: token } },
      };
      expectSameDecoding(
        SessionRequestSchema,
        decodeSessionRequest,
        bytesOf(request(message)),
      );
      expect(() =>
        decodeSessionRequestByHand(bytesOf(request(message))),
      ).toThrow();
    }
    for (let i = 0; i < 100; i++) {
      expectSameDecoding(
        SessionRequestSchema,
        decodeSessionRequest,
        bytesOf(randomBatch(next, INTS)),
      );
    }
    // A batch inside a batch (unpackBatch refuses it, naming it).
    expectSameDecoding(
      SessionRequestSchema,
      decodeSessionRequest,
      bytesOf(batchOf([{ case: "batch", value: { messages: [] } }])),
    );
  });

  it("keeps unknown fields and repeated fields as fromBinary does", () => {
    const next = random(14);
    for (let i = 0; i < 200; i++) {
      const bytes = bytesOf(request(hotMessage(next)));
      const twice = Uint8Array.from([...bytes, ...bytes]);
      expectSameDecoding(SessionRequestSchema, decodeSessionRequest, twice);
    }
  });

  it("fails on malformed bytes exactly as fromBinary does", () => {
    const next = random(15);
    for (let i = 0; i < 400; i++) {
      const message =
        next() < 0.5 ? request(hotMessage(next)) : randomBatch(next);
      let bytes = bytesOf(message);
      const rounds = 1 + Math.floor(next() * 3);
      for (let r = 0; r < rounds; r++) bytes = mangle(bytes, next);
      expectSameDecoding(SessionRequestSchema, decodeSessionRequest, bytes);
    }
    for (const bytes of [
      [0xff],
      [0x00],
      [0x4a, 0x05, 0x0a],
      [0x42, 0x02, 0x0a, 0x01, 0xc3],
      [0x1a, 0x0b, 0x10, ...Array(10).fill(0xff)],
    ]) {
      expectSameDecoding(
        SessionRequestSchema,
        decodeSessionRequest,
        Uint8Array.from(bytes),
      );
    }
  });
});
