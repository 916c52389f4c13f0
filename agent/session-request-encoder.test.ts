import {
  create,
  type JsonObject,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import {
  type SessionRequest,
  SessionRequestSchema,
} from "../gen/deerflow/v1/agent_pb.js";
import type { AttemptOutcome } from "../gen/deerflow/v1/run_pb.js";
import {
  INTS,
  LARGE_INT64S,
  pick,
  random,
  SMALL_INT64S,
  STRINGS,
} from "../test/support/proto-fuzz.js";
import { encodeSessionRequest } from "./session-request-encoder.js";

type Message = NonNullable<
  MessageInitShape<typeof SessionRequestSchema>["message"]
>;

const TIMES = [0, 1, 999, 1_700_000_000_123, 253_402_300_799_999];

function maybe<T>(next: () => number, value: () => T): T | undefined {
  return next() < 0.8 ? value() : undefined;
}

function lease(next: () => number, tokens: readonly bigint[]) {
  return { leaseId: pick(next, STRINGS), fencingToken: pick(next, tokens) };
}

/** A message of a kind the agent sends often, with varied values. */
function hotMessage(next: () => number, tokens = SMALL_INT64S): Message {
  const kinds: (() => Message)[] = [
    () => ({
      case: "acknowledge",
      value: { lease: maybe(next, () => lease(next, tokens)) },
    }),
    () => ({
      case: "credit",
      value: {
        freeSlots: pick(next, INTS),
        assignmentsReceived: pick(next, tokens),
        draining: next() < 0.5,
      },
    }),
    () => ({
      case: "heartbeat",
      value: {
        leases: Array.from({ length: next() * 4 }, () => lease(next, tokens)),
      },
    }),
    () => ({
      case: "reject",
      value: { lease: lease(next, tokens), reason: pick(next, STRINGS) },
    }),
    () => ({
      case: "result",
      value: {
        lease: maybe(next, () => lease(next, tokens)),
        outcome: pick(next, [0, 1, 2, 3, 4, 5, 77, -1]) as AttemptOutcome,
        exitCode: maybe(next, () => pick(next, INTS)),
        output: maybe(next, () => pick<JsonObject>(next, [{}, {}, { a: [1] }])),
        error: pick(next, STRINGS),
        retryable: next() < 0.5,
        retryClass: pick(next, STRINGS),
        startedAt: maybe(next, () => timestampFromMs(pick(next, TIMES))),
        finishedAt: maybe(next, () => timestampFromMs(pick(next, TIMES))),
        retryAfterMs: pick(next, INTS),
      },
    }),
    () => ({
      case: "logChunk",
      value: {
        lease: maybe(next, () => lease(next, tokens)),
        lines: Array.from({ length: next() * 3 }, () => ({
          attempt: pick(next, INTS),
          sequence: pick(next, tokens),
          time: maybe(next, () => timestampFromMs(pick(next, TIMES))),
          stream: pick(next, ["stdout", "stderr", "log", ""]),
          level: pick(next, ["", "info", "warn"]),
          message: pick(next, STRINGS),
          fields: pick<JsonObject | undefined>(next, [undefined, {}, { k: 1 }]),
        })),
      },
    }),
    () => ({
      case: "metricBatch",
      value: { points: [{ name: pick(next, STRINGS), value: next() }] },
    }),
    () => ({ case: "hello", value: { agentId: pick(next, STRINGS) } }),
  ];
  return pick(next, kinds)();
}

function request(message: Message | { case: undefined }): SessionRequest {
  return create(SessionRequestSchema, { message });
}

function batchOf(messages: Message[]): SessionRequest {
  return request({
    case: "batch",
    value: { messages: messages.map((message) => ({ message })) },
  });
}

function expectSameBytes(message: SessionRequest): void {
  expect(Buffer.from(encodeSessionRequest(message)).toString("hex")).toBe(
    Buffer.from(toBinary(SessionRequestSchema, message)).toString("hex"),
  );
}

describe("encodeSessionRequest", () => {
  it("writes each kind byte for byte as toBinary does", () => {
    const next = random(21);
    for (let i = 0; i < 800; i++) expectSameBytes(request(hotMessage(next)));
    expectSameBytes(request({ case: undefined }));
  });

  it("writes batches mixing kinds as toBinary does", () => {
    const next = random(22);
    for (let i = 0; i < 100; i++) {
      const n = Math.floor(next() * 60);
      expectSameBytes(
        batchOf(Array.from({ length: n }, () => hotMessage(next))),
      );
    }
    expectSameBytes(batchOf([]));
    expectSameBytes(batchOf([{ case: "batch", value: { messages: [] } }]));
  });

  it("writes an exit code of 0, and none when it is unset", () => {
    const zero = request({ case: "result", value: { exitCode: 0 } });
    const none = request({ case: "result", value: {} });
    expectSameBytes(zero);
    expectSameBytes(none);
    expect(encodeSessionRequest(zero)).not.toEqual(encodeSessionRequest(none));
  });

  it("leaves wide ints and unknown fields to toBinary, with the same bytes", () => {
    const next = random(23);
    for (let i = 0; i < 200; i++) {
      expectSameBytes(request(hotMessage(next, LARGE_INT64S)));
    }
    const withUnknown = request(hotMessage(next));
    withUnknown.$unknown = [{ no: 1000, wireType: 0, data: Uint8Array.of(5) }];
    expectSameBytes(withUnknown);
    expectSameBytes(batchOf([withUnknown.message as Message]));
    const ack = create(SessionRequestSchema, {
      message: { case: "acknowledge", value: { lease: { leaseId: "l" } } },
    });
    if (ack.message.case === "acknowledge" && ack.message.value.lease) {
      ack.message.value.lease.$unknown = [
        { no: 9, wireType: 2, data: Uint8Array.of(1, 7) },
      ];
    }
    expectSameBytes(ack);
  });

  it("refuses what toBinary refuses, with its error", () => {
    const bad: SessionRequest[] = [];
    for (const freeSlots of [2 ** 31, 1.5, Number.NaN]) {
      bad.push(request({ case: "credit", value: { freeSlots } }));
    }
    const result = request({ case: "result", value: {} });
    if (result.message.case === "result") {
      result.message.value.exitCode = 2 ** 40;
    }
    bad.push(result);
    for (const message of bad) {
      let refused: unknown;
      try {
        toBinary(SessionRequestSchema, message);
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(Error);
      expect(() => encodeSessionRequest(message)).toThrow(
        (refused as Error).message,
      );
      expect(() =>
        encodeSessionRequest(batchOf([message.message as Message])),
      ).toThrow((refused as Error).message);
    }
  });
});
