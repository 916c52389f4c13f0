import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  type Assignment,
  AssignmentSchema,
  type SessionResponse,
  SessionResponseSchema,
} from "../../gen/deerflow/v1/agent_pb.js";
import { ResourcesSchema } from "../../gen/deerflow/v1/common_pb.js";
import { encodeSessionResponse } from "./session-response-codec.js";

/** A small deterministic generator (mulberry32), so failures repeat. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = [
  "",
  "noop",
  "process[999]",
  "ünïcödé",
  "日本語のタスク",
  "emoji 🦌",
  "lone \ud800 surrogate",
  "x".repeat(200),
  "y".repeat(20_000),
];
const INTS = [
  0,
  1,
  127,
  128,
  16_384,
  30_000,
  2 ** 31 - 1,
  -1,
  -128,
  -(2 ** 31),
];
const TOKENS = [0n, 1n, 127n, 128n, 2n ** 35n, BigInt(Number.MAX_SAFE_INTEGER)];
/** Fencing tokens the hand writer leaves to toBinary. */
const FOREIGN_TOKENS = [
  BigInt(Number.MAX_SAFE_INTEGER) + 1n,
  -1n,
  2n ** 63n - 1n,
];

function pick<T>(next: () => number, values: readonly T[]): T {
  return values[Math.floor(next() * values.length)] as T;
}

function randomMap(next: () => number): Record<string, string> {
  const map: Record<string, string> = {};
  const n = Math.floor(next() * 4);
  for (let i = 0; i < n; i++)
    map[`${pick(next, STRINGS)}${i}`] = pick(next, STRINGS);
  if (next() < 0.2) map[""] = "";
  return map;
}

function randomBytes(next: () => number): Uint8Array {
  const length = pick(next, [0, 2, 127, 128, 300]);
  return Uint8Array.from({ length }, () => Math.floor(next() * 256));
}

function randomAssignment(next: () => number, tokens = TOKENS): Assignment {
  return create(AssignmentSchema, {
    lease:
      next() < 0.9
        ? { leaseId: pick(next, STRINGS), fencingToken: pick(next, tokens) }
        : undefined,
    runId: pick(next, STRINGS),
    taskId: pick(next, STRINGS),
    attempt: pick(next, INTS),
    type: pick(next, STRINGS),
    env: randomMap(next),
    timeoutMs: pick(next, INTS),
    ackDeadlineMs: pick(next, INTS),
    onAgentDisconnect: pick(next, STRINGS),
    leaseTtlMs: pick(next, INTS),
    secrets: randomMap(next),
    configJson: randomBytes(next),
    contextJson: randomBytes(next),
  });
}

function batch(messages: SessionResponse["message"][]): SessionResponse {
  return create(SessionResponseSchema, {
    message: {
      case: "batch",
      value: { messages: messages.map((message) => ({ message })) },
    },
  });
}

function expectSameBytes(response: SessionResponse): void {
  const bytes = encodeSessionResponse(response);
  expect(Buffer.from(bytes).toString("hex")).toBe(
    Buffer.from(toBinary(SessionResponseSchema, response)).toString("hex"),
  );
  expect(fromBinary(SessionResponseSchema, bytes)).toEqual(
    fromBinary(
      SessionResponseSchema,
      toBinary(SessionResponseSchema, response),
    ),
  );
}

describe("encodeSessionResponse", () => {
  it("writes an assignment byte for byte as toBinary does", () => {
    const next = random(6);
    for (let i = 0; i < 500; i++) {
      expectSameBytes(
        create(SessionResponseSchema, {
          message: { case: "assignment", value: randomAssignment(next) },
        }),
      );
    }
  });

  it("writes a batch of assignments and other messages as toBinary does", () => {
    const next = random(7);
    for (let i = 0; i < 100; i++) {
      const messages: SessionResponse["message"][] = [];
      const n = Math.floor(next() * 300);
      for (let j = 0; j < n; j++) {
        const lease = { leaseId: pick(next, STRINGS), fencingToken: 3n };
        messages.push(
          pick(next, [
            { case: "assignment", value: randomAssignment(next) },
            { case: "assignment", value: randomAssignment(next) },
            { case: "resultAck", value: { lease, accepted: true } },
            { case: "cancel", value: { lease, reason: "killed" } },
            { case: "heartbeatAck", value: { staleLeases: [lease] } },
            { case: "drain", value: { gracePeriodMs: 5000 } },
          ] as SessionResponse["message"][]),
        );
      }
      expectSameBytes(batch(messages));
    }
  });

  it("leaves what it cannot write exactly to toBinary, with the same bytes", () => {
    const next = random(8);
    const foreign = [
      { config: { a: 1, b: [true, null, "x"] } },
      { context: { params: { n: 2 } } },
      {
        resources: create(ResourcesSchema, {
          cpuMillis: 500n,
          memoryBytes: 2n ** 40n,
        }),
      },
    ];
    for (const fields of foreign) {
      const value = Object.assign(randomAssignment(next), fields);
      expectSameBytes(batch([{ case: "assignment", value }]));
      expectSameBytes(
        create(SessionResponseSchema, {
          message: { case: "assignment", value },
        }),
      );
    }
    for (let i = 0; i < 30; i++) {
      expectSameBytes(
        batch([
          {
            case: "assignment",
            value: randomAssignment(next, FOREIGN_TOKENS),
          },
        ]),
      );
    }
    // Numbers no int32 field holds: toBinary refuses them, and so the
    // hand writer's caller gets the same refusal, not wrong bytes.
    for (const attempt of [2 ** 31, 2 ** 32 + 5, 1.5, Number.NaN, Infinity]) {
      const value = Object.assign(randomAssignment(next), { attempt });
      const response = batch([{ case: "assignment", value }]);
      let refused: unknown;
      try {
        toBinary(SessionResponseSchema, response);
      } catch (error) {
        refused = error;
      }
      expect(refused, String(attempt)).toBeInstanceOf(Error);
      expect(() => encodeSessionResponse(response)).toThrow(
        (refused as Error).message,
      );
    }
    // Fields the schema does not know, kept from a decoded message.
    const withUnknown = fromBinary(
      AssignmentSchema,
      Uint8Array.from([
        ...toBinary(AssignmentSchema, randomAssignment(next)),
        0xf8,
        0x06,
        0x01,
      ]),
    );
    expect(withUnknown.$unknown?.length).toBe(1);
    expectSameBytes(batch([{ case: "assignment", value: withUnknown }]));
  });

  it("writes an empty batch and messages that are not assignments", () => {
    expectSameBytes(batch([]));
    expectSameBytes(
      create(SessionResponseSchema, {
        message: { case: "drain", value: { gracePeriodMs: 1 } },
      }),
    );
    expectSameBytes(create(SessionResponseSchema, {}));
  });
});
