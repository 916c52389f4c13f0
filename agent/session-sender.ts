import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type LeaseRef,
  type SessionRequest,
  SessionRequestSchema,
} from "../gen/deerflow/v1/agent_pb.js";
import type { SessionStream } from "./session-loop.js";

type RequestInit = NonNullable<
  MessageInitShape<typeof SessionRequestSchema>["message"]
>;
/** The kinds of message an agent sends. */
export type RequestCase = NonNullable<RequestInit["case"]>;
/** The fields of one kind of message. */
export type RequestValue<C extends RequestCase> = Extract<
  RequestInit,
  { case: C }
>["value"];

/** Log and metric messages kept while no stream is open. */
const MAX_PENDING_STREAMED = 1_000;

/**
 * Writes the agent's messages to the welcomed stream. Session-bound
 * messages (credits, acks, heartbeats) are moot without a stream and are
 * dropped; log chunks and metric batches wait, bounded, for the next one.
 */
export class SessionSender {
  private stream: SessionStream | undefined;
  private pending: SessionRequest[] = [];

  /** Whether a welcomed stream is open. */
  get connected(): boolean {
    return this.stream !== undefined;
  }

  /** Uses a newly welcomed stream, first sending what waited for it. */
  attach(stream: SessionStream): void {
    this.stream = stream;
    const pending = this.pending;
    this.pending = [];
    for (const request of pending) stream.send(request);
  }

  /** Forgets a stream that ended. */
  detach(stream: SessionStream): void {
    if (this.stream === stream) this.stream = undefined;
  }

  send<C extends RequestCase>(kind: C, value: RequestValue<C>): void {
    this.stream?.send(request(kind, value));
  }

  sendStreamed<C extends "logChunk" | "metricBatch">(
    kind: C,
    value: RequestValue<C>,
  ): void {
    const message = request(kind, value);
    if (this.stream !== undefined) {
      this.stream.send(message);
      return;
    }
    this.pending.push(message);
    if (this.pending.length > MAX_PENDING_STREAMED) {
      // Keep the newest: the end of a log says most about how it ended.
      this.pending.shift();
    }
  }
}

function request<C extends RequestCase>(
  kind: C,
  value: RequestValue<C>,
): SessionRequest {
  const message = plainMessage(kind, value);
  if (message !== undefined) {
    return { $typeName: "deerflow.v1.SessionRequest", message };
  }
  return create(SessionRequestSchema, {
    message: { case: kind, value } as RequestInit,
  });
}

/**
 * The request's oneof as `create` would make it, for the kinds sent per
 * task, when that takes no conversion: a value that is a message already
 * (a result), an acknowledgement of a lease message, a credit of exact
 * types. Undefined for the rest, which `create` makes.
 */
function plainMessage<C extends RequestCase>(
  kind: C,
  value: RequestValue<C>,
): SessionRequest["message"] | undefined {
  if (isMessage(value))
    return { case: kind, value } as SessionRequest["message"];
  if (kind === "acknowledge") {
    const { lease } = value as RequestValue<"acknowledge">;
    if (!isMessage(lease)) return undefined;
    return {
      case: "acknowledge",
      value: { $typeName: "deerflow.v1.Acknowledge", lease: lease as LeaseRef },
    };
  }
  if (kind === "credit") {
    const c = value as RequestValue<"credit">;
    if (
      typeof c.freeSlots !== "number" ||
      typeof c.assignmentsReceived !== "bigint" ||
      typeof c.draining !== "boolean"
    ) {
      return undefined;
    }
    return {
      case: "credit",
      value: {
        $typeName: "deerflow.v1.Credit",
        freeSlots: c.freeSlots,
        assignmentsReceived: c.assignmentsReceived,
        draining: c.draining,
      },
    };
  }
  return undefined;
}

/** Whether `value` is a message already (create would keep it as is). */
function isMessage(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { $typeName?: unknown }).$typeName === "string"
  );
}
