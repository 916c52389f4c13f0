import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  LeaseRefSchema,
  ResultSchema,
  type SessionRequest,
  SessionRequestSchema,
} from "../gen/deerflow/v1/agent_pb.js";
import type { SessionStream } from "./session-loop.js";
import { SessionSender } from "./session-sender.js";

type Init = Exclude<
  MessageInitShape<typeof SessionRequestSchema>["message"],
  { case: undefined } | undefined
>;

const lease = create(LeaseRefSchema, { leaseId: "l", fencingToken: 4n });

/** What the sender sends for `message`, beside what create() makes. */
function sent(message: Init): [SessionRequest, SessionRequest] {
  const requests: SessionRequest[] = [];
  const stream: SessionStream = {
    send: (request) => requests.push(request),
    signal: new AbortController().signal,
  };
  const sender = new SessionSender();
  sender.attach(stream);
  // biome-ignore lint/suspicious/noExplicitAny: one call for every kind
  sender.send(message.case, message.value as any);
  return [
    requests[0] as SessionRequest,
    create(SessionRequestSchema, { message }),
  ];
}

describe("SessionSender's requests", () => {
  it("are the messages create() makes, built without it or with it", () => {
    const messages: Init[] = [
      { case: "acknowledge", value: { lease } },
      { case: "acknowledge", value: { lease: { leaseId: "x" } } },
      { case: "acknowledge", value: {} },
      {
        case: "credit",
        value: { freeSlots: 3, assignmentsReceived: 7n, draining: false },
      },
      { case: "credit", value: { freeSlots: 3 } },
      {
        case: "result",
        value: create(ResultSchema, { lease, outcome: 1, exitCode: 0 }),
      },
      { case: "result", value: { lease, outcome: 2 } },
      { case: "reject", value: { lease, reason: "no free slot" } },
      { case: "heartbeat", value: { leases: [lease] } },
    ];
    for (const message of messages) {
      const [actual, expected] = sent(message);
      expect(actual).toStrictEqual(expected);
    }
  });
});
