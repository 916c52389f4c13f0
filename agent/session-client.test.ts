import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  SessionRequestSchema,
  SessionResponseSchema,
} from "../gen/deerflow/v1/agent_pb.js";
import { mangle, random } from "../test/support/proto-fuzz.js";
import { fromEmpty, toEmpty } from "./session-client.js";

const lease = { leaseId: "l-1", fencingToken: 7n };

const requests = [
  create(SessionRequestSchema, {}),
  create(SessionRequestSchema, {
    message: { case: "hello", value: { agentId: "a", slots: 4 } },
  }),
  create(SessionRequestSchema, {
    message: {
      case: "batch",
      value: {
        messages: [
          { message: { case: "acknowledge", value: { lease } } },
          { message: { case: "result", value: { lease, outcome: 1 } } },
          { message: { case: "credit", value: { freeSlots: 3 } } },
        ],
      },
    },
  }),
  Object.assign(
    create(SessionRequestSchema, {
      message: { case: "credit", value: { freeSlots: 1 } },
    }),
    { $unknown: [{ no: 99, wireType: 0, data: Uint8Array.of(1) }] },
  ),
];

const responses = [
  create(SessionResponseSchema, {}),
  create(SessionResponseSchema, {
    message: { case: "welcome", value: { agentId: "a", sessionId: "s" } },
  }),
  create(SessionResponseSchema, {
    message: {
      case: "batch",
      value: {
        messages: [
          { message: { case: "assignment", value: { lease, runId: "r" } } },
          { message: { case: "resultAck", value: { lease, accepted: true } } },
        ],
      },
    },
  }),
];

/** What connect-es's parse gives or throws for a response's bytes. */
function connectParse(bytes: Uint8Array): unknown {
  try {
    return { value: fromBinary(SessionResponseSchema, bytes) };
  } catch (error) {
    const m = error instanceof Error ? error.message : String(error);
    const e = new ConnectError(`parse binary: ${m}`, Code.Internal);
    return { error: `${e.code} ${e.message}` };
  }
}

/** The same through an Empty, as the client's transport passes it. */
function emptyParse(bytes: Uint8Array): unknown {
  let empty: ReturnType<typeof fromBinary<typeof EmptySchema>>;
  try {
    empty = fromBinary(EmptySchema, bytes);
  } catch {
    // Bytes broken at the top (a bad tag or length) fail in the
    // transport's own parse, as Empty: the same code, but the message
    // may name another fault (see the header of session-client.ts).
    return undefined;
  }
  try {
    return { value: fromEmpty(empty) };
  } catch (error) {
    const e = ConnectError.from(error);
    return { error: `${e.code} ${e.message}` };
  }
}

describe("SessionClient's messages", () => {
  it("go on the wire as the real Session method's would", () => {
    for (const request of requests) {
      expect(toBinary(EmptySchema, toEmpty(request))).toEqual(
        toBinary(SessionRequestSchema, request),
      );
    }
  });

  it("come off the wire as the real Session method's would", () => {
    for (const response of responses) {
      const bytes = toBinary(SessionResponseSchema, response);
      expect(emptyParse(bytes)).toStrictEqual(connectParse(bytes));
    }
  });

  it("fail on malformed responses as connect-es's parse would", () => {
    const next = random(41);
    for (let i = 0; i < 300; i++) {
      let bytes: Uint8Array = toBinary(
        SessionResponseSchema,
        responses[i % responses.length] as (typeof responses)[number],
      );
      for (let r = 0; r < 1 + next() * 3; r++) bytes = mangle(bytes, next);
      const parsed = emptyParse(bytes);
      if (parsed !== undefined) {
        expect(parsed).toStrictEqual(connectParse(bytes));
      }
    }
  });
});
