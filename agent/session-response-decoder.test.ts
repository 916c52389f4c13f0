import {
  create,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  type SessionResponse,
  SessionResponseSchema,
} from "../gen/deerflow/v1/agent_pb.js";
import {
  expectSameDecoding,
  INTS,
  LARGE_INT64S,
  mangle,
  pick,
  random,
  randomBytes,
  randomMap,
  SMALL_INT64S,
  STRINGS,
} from "../test/support/proto-fuzz.js";
import {
  decodeSessionResponse,
  decodeSessionResponseByHand,
} from "./session-response-decoder.js";

type Message = NonNullable<
  MessageInitShape<typeof SessionResponseSchema>["message"]
>;

/** Non-negative int32s: the ones the hand decoder reads itself. */
const COUNTS = INTS.filter((n) => n >= 0);

function lease(next: () => number, tokens = SMALL_INT64S) {
  return { leaseId: pick(next, STRINGS), fencingToken: pick(next, tokens) };
}

function maybe<T>(next: () => number, value: () => T): T | undefined {
  return next() < 0.8 ? value() : undefined;
}

/** A message the agent receives often, with values read by hand. */
function hotMessage(next: () => number, ints = COUNTS): Message {
  const kinds: (() => Message)[] = [
    () => ({
      case: "assignment",
      value: {
        lease: maybe(next, () => lease(next)),
        runId: pick(next, STRINGS),
        taskId: pick(next, STRINGS),
        attempt: pick(next, ints),
        type: pick(next, STRINGS),
        env: randomMap(next),
        timeoutMs: pick(next, ints),
        ackDeadlineMs: pick(next, ints),
        onAgentDisconnect: pick(next, ["", "kill", "keep_running"]),
        leaseTtlMs: pick(next, ints),
        secrets: randomMap(next),
        configJson: randomBytes(next),
        contextJson: randomBytes(next),
      },
    }),
    () => ({
      case: "resultAck",
      value: {
        lease: maybe(next, () => lease(next)),
        accepted: next() < 0.5,
        reason: pick(next, STRINGS),
      },
    }),
    () => ({
      case: "cancel",
      value: { lease: lease(next), reason: pick(next, STRINGS) },
    }),
    () => ({
      case: "heartbeatAck",
      value: {
        staleLeases: Array.from({ length: next() * 4 }, () => lease(next)),
      },
    }),
    () => ({ case: "drain", value: { gracePeriodMs: pick(next, ints) } }),
  ];
  return pick(next, kinds)();
}

function response(message: Message | { case: undefined }): SessionResponse {
  return create(SessionResponseSchema, { message });
}

function batchOf(messages: Message[]): SessionResponse {
  return response({
    case: "batch",
    value: { messages: messages.map((message) => ({ message })) },
  });
}

function randomBatch(next: () => number, ints = COUNTS): SessionResponse {
  const n = Math.floor(next() * 30);
  return batchOf(Array.from({ length: n }, () => hotMessage(next, ints)));
}

function bytesOf(message: SessionResponse): Uint8Array {
  return toBinary(SessionResponseSchema, message);
}

function expectReadByHand(message: SessionResponse): void {
  const bytes = bytesOf(message);
  const expected = fromBinary(SessionResponseSchema, bytes);
  expect(decodeSessionResponseByHand(bytes)).toStrictEqual(expected);
  expect(decodeSessionResponse(bytes)).toStrictEqual(expected);
}

const same = (bytes: Uint8Array) =>
  expectSameDecoding(SessionResponseSchema, decodeSessionResponse, bytes);

describe("decodeSessionResponse", () => {
  it("reads the hot kinds by hand, value for value as fromBinary", () => {
    const next = random(31);
    for (let i = 0; i < 500; i++) expectReadByHand(response(hotMessage(next)));
    expectReadByHand(response({ case: undefined }));
  });

  it("reads batches of them by hand", () => {
    const next = random(32);
    for (let i = 0; i < 100; i++) expectReadByHand(randomBatch(next));
    expectReadByHand(batchOf([]));
  });

  it("leaves what it does not read to fromBinary, with the same values", () => {
    const next = random(33);
    const others: Message[] = [
      {
        case: "welcome",
        value: { agentId: "a", acceptsBatches: true, heartbeatIntervalMs: 5 },
      },
      { case: "assignment", value: { config: { a: 1 }, context: {} } },
      { case: "assignment", value: { resources: { cpuMillis: 500n } } },
      { case: "assignment", value: { env: { ["__proto__"]: "x", a: "b" } } },
      { case: "drain", value: { gracePeriodMs: -1 } },
    ];
    for (const message of others) {
      same(bytesOf(response(message)));
      same(bytesOf(batchOf([hotMessage(next), message, hotMessage(next)])));
    }
    for (const token of LARGE_INT64S) {
      const message: Message = {
        case: "resultAck",
        value: { lease: { leaseId: "l", fencingToken: token } },
      };
      same(bytesOf(response(message)));
      expect(() =>
        decodeSessionResponseByHand(bytesOf(response(message))),
      ).toThrow();
    }
    for (let i = 0; i < 100; i++) same(bytesOf(randomBatch(next, INTS)));
    same(bytesOf(batchOf([{ case: "batch", value: { messages: [] } }])));
  });

  it("keeps unknown and repeated fields as fromBinary does", () => {
    const next = random(34);
    for (let i = 0; i < 200; i++) {
      const bytes = bytesOf(response(hotMessage(next)));
      same(Uint8Array.from([...bytes, ...bytes]));
    }
  });

  it("fails on malformed bytes exactly as fromBinary does", () => {
    const next = random(35);
    for (let i = 0; i < 400; i++) {
      const message =
        next() < 0.5 ? response(hotMessage(next)) : randomBatch(next);
      let bytes = bytesOf(message);
      const rounds = 1 + Math.floor(next() * 3);
      for (let r = 0; r < rounds; r++) bytes = mangle(bytes, next);
      same(bytes);
    }
  });
});
