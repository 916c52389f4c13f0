/**
 * A stand-in for the control plane's side of AgentService.Session, for the
 * agent's tests: a real HTTP/2 server on 127.0.0.1 with the real connect
 * handler, whose every session the test drives message by message. It
 * keeps no state between sessions and decides nothing by itself.
 */
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { approximateSize } from "../core/index.js";
import {
  AgentService,
  type Hello,
  type LeaseRef,
  type SessionRequest,
  type SessionResponse,
  SessionResponseSchema,
  WelcomeSchema,
} from "../gen/deerflow/v1/agent_pb.js";
import { MessageQueue } from "./message-queue.js";

type RequestMessage = NonNullable<SessionRequest["message"]>;
type RequestCase = NonNullable<RequestMessage["case"]>;
type RequestOf<C extends RequestCase> = Extract<
  RequestMessage,
  { case: C }
>["value"];
type ResponseInit = NonNullable<
  MessageInitShape<typeof SessionResponseSchema>["message"]
>;

interface Waiter {
  kind: RequestCase;
  matches: (value: unknown) => boolean;
  resolve: (value: unknown) => void;
}

/** One session stream, seen from the control plane's side. */
export class StandInSession {
  /** Every message the agent sent, in order, its batches opened. */
  readonly received: SessionRequest[] = [];
  /** How many batches the agent sent. */
  batchesReceived = 0;
  /** Per batch, its messages' approximateSize. */
  readonly batchSizes: number[] = [];
  readonly outgoing = new MessageQueue<SessionResponse>();
  /** Resolves when the agent's side of the stream ends. */
  readonly ended: Promise<void>;
  private markEnded: () => void = () => {};
  private unclaimed: SessionRequest[] = [];
  private waiters: Waiter[] = [];
  private firstMessage: Promise<Hello> | undefined;
  failure: ConnectError | undefined;

  constructor() {
    this.ended = new Promise((resolve) => {
      this.markEnded = resolve;
    });
  }

  /** The session's first message (the same one on every call). */
  hello(): Promise<Hello> {
    this.firstMessage ??= this.next("hello");
    return this.firstMessage;
  }

  /**
   * The next message of a kind (that `matches`, when given) not claimed by
   * an earlier call, waiting for it when it has not arrived yet.
   */
  next<C extends RequestCase>(
    kind: C,
    matches: (value: RequestOf<C>) => boolean = () => true,
  ): Promise<RequestOf<C>> {
    const index = this.unclaimed.findIndex(
      (r) =>
        r.message.case === kind && matches(r.message.value as RequestOf<C>),
    );
    const found = this.unclaimed[index];
    if (found !== undefined) {
      this.unclaimed.splice(index, 1);
      return Promise.resolve(found.message.value) as Promise<RequestOf<C>>;
    }
    return new Promise<RequestOf<C>>((resolve) => {
      this.waiters.push({
        kind,
        matches: matches as (value: unknown) => boolean,
        resolve: resolve as (value: unknown) => void,
      });
    });
  }

  /** Every message of a kind received so far, claimed or not. */
  all<C extends RequestCase>(kind: C): RequestOf<C>[] {
    return this.received
      .filter((r) => r.message.case === kind)
      .map((r) => r.message.value as RequestOf<C>);
  }

  send(message: ResponseInit): void {
    this.outgoing.push(create(SessionResponseSchema, { message }));
  }

  /** Sends a Welcome with the Hello's agent id and the given fields. */
  async welcome(
    fields: {
      heartbeatIntervalMs?: number;
      leaseTtlMs?: number;
      reattachedLeases?: LeaseRef[];
      agentId?: string;
      acceptsBatches?: boolean;
    } = {},
  ): Promise<Hello> {
    const hello = await this.hello();
    this.send({
      case: "welcome",
      value: create(WelcomeSchema, {
        agentId: hello.agentId,
        sessionId: `session-${this.received.length}-${Date.now()}`,
        heartbeatIntervalMs: 60_000,
        leaseTtlMs: 180_000,
        ...fields,
      }),
    });
    return hello;
  }

  /** Breaks the stream with an error, as a crashing replica would. */
  drop(code = Code.Unavailable, message = "stand-in dropped the stream") {
    this.failure = new ConnectError(message, code);
    this.outgoing.end();
  }

  receive(request: SessionRequest): void {
    if (request.message.case === "batch") {
      this.batchesReceived += 1;
      this.batchSizes.push(
        approximateSize(request.message.value.messages, Infinity),
      );
      for (const inner of request.message.value.messages) this.receive(inner);
      return;
    }
    this.received.push(request);
    const kind = request.message.case;
    const value = request.message.value;
    const index = this.waiters.findIndex(
      (w) => w.kind === kind && w.matches(value),
    );
    const waiter = this.waiters[index];
    if (waiter === undefined) {
      this.unclaimed.push(request);
      return;
    }
    this.waiters.splice(index, 1);
    waiter.resolve(value);
  }

  agentEnded(): void {
    this.outgoing.end();
    this.markEnded();
  }
}

/** The stand-in server. */
export class StandInControlPlane {
  private readonly opened: StandInSession[] = [];
  private readonly waiting: ((session: StandInSession) => void)[] = [];
  private readonly connections = new Set<http2.ServerHttp2Session>();
  private server: http2.Http2Server | undefined;
  /** Sessions opened so far. */
  readonly sessions: StandInSession[] = [];
  /** "http://127.0.0.1:PORT" once started. */
  url = "";
  /** When set, sessions fail with it after reading the Hello. */
  refuseWith: ConnectError | undefined;
  private refusalWaiters: (() => void)[] = [];

  /** Starts on 127.0.0.1, on the given port or an ephemeral one. */
  async start(port = 0): Promise<this> {
    const handler = connectNodeAdapter({
      routes: (router: ConnectRouter) =>
        router.service(AgentService, {
          session: (requests) => this.serve(requests),
        }),
    });
    const server = http2.createServer(handler);
    server.on("session", (session) => {
      this.connections.add(session);
      session.on("close", () => this.connections.delete(session));
    });
    await new Promise<void>((resolve) =>
      server.listen(port, "127.0.0.1", resolve),
    );
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** The next session the agent opens (or one opened and not yet taken). */
  nextSession(): Promise<StandInSession> {
    const session = this.opened.shift();
    if (session !== undefined) return Promise.resolve(session);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Resolves when the next session is refused (see refuseWith). */
  nextRefusal(): Promise<void> {
    return new Promise((resolve) => this.refusalWaiters.push(resolve));
  }

  /** Closes every connection and the server. */
  async stop(): Promise<void> {
    for (const session of this.sessions) session.agentEnded();
    for (const connection of this.connections) connection.destroy();
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async *serve(
    requests: AsyncIterable<SessionRequest>,
  ): AsyncGenerator<SessionResponse> {
    const refusal = this.refuseWith;
    if (refusal !== undefined) {
      await requests[Symbol.asyncIterator]().next();
      this.refusalWaiters.shift()?.();
      throw refusal;
    }
    const session = new StandInSession();
    this.sessions.push(session);
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter(session);
    else this.opened.push(session);
    void (async () => {
      try {
        for await (const request of requests) session.receive(request);
      } catch {
        // The agent's side broke; agentEnded below says so.
      } finally {
        session.agentEnded();
      }
    })();
    yield* session.outgoing;
    if (session.failure !== undefined) throw session.failure;
  }
}
