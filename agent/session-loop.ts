import { Code, ConnectError } from "@connectrpc/connect";
import {
  createGrpcTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import type { Logger } from "pino";
import {
  type Clock,
  isSessionSuperseded,
  sessionBatches,
} from "../core/index.js";
import type {
  SessionRequest,
  SessionResponse,
} from "../gen/deerflow/v1/agent_pb.js";
import { MessageQueue } from "./message-queue.js";
import { type ReconnectPolicy, reconnectDelayMs } from "./reconnect-delay.js";
import { SessionClient } from "./session-client.js";

/** Several requests as one batch message (see Welcome.accepts_batches). */
const BATCHES = sessionBatches<SessionRequest>((messages) => ({
  $typeName: "deerflow.v1.SessionRequest",
  message: {
    case: "batch",
    value: { $typeName: "deerflow.v1.SessionRequestBatch", messages },
  },
}));

/** One open session stream, as the agent writes to it. */
export interface SessionStream {
  /** Queues a message; dropped once the stream has ended. */
  send(request: SessionRequest): void;
  /** Aborts when the stream ends. */
  readonly signal: AbortSignal;
}

/** What the agent does with its sessions. */
export interface SessionHandler {
  /** The first message of a new session. */
  hello(): SessionRequest;
  receive(response: SessionResponse, stream: SessionStream): void;
  /** The stream ended, for whatever reason. */
  ended(stream: SessionStream): void;
  /**
   * The largest delay before the next reconnect while the agent holds
   * leases (see holdingMaxDelayMs); undefined when it holds none, and
   * the policy's own applies.
   */
  reconnectCeilingMs?(): number | undefined;
  /**
   * The control plane ended the session for a newer session of this
   * agent id (isSessionSuperseded): another process runs as this agent.
   * The loop does not reconnect after it.
   */
  superseded(error: ConnectError): void;
}

export interface SessionLoopOptions {
  serverUrl: string;
  reconnect: ReconnectPolicy;
  clock: Clock;
  logger: Logger;
  /** Default Math.random; the jitter of reconnect delays. */
  random?: () => number;
}

/**
 * Keeps one session stream open to the control plane: opens it with a
 * Hello, feeds responses to the handler, and when it breaks waits a
 * jittered, growing delay and opens a new one, until closed.
 */
export class SessionLoop {
  private readonly stopping = new AbortController();
  private readonly connection: Http2SessionManager;
  private readonly client: SessionClient;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: SessionLoopOptions) {
    // PINGs notice a dead connection that TCP alone would sit on for long.
    this.connection = new Http2SessionManager(options.serverUrl, {
      pingIntervalMs: 15_000,
      pingTimeoutMs: 15_000,
    });
    const transport = createGrpcTransport({
      baseUrl: options.serverUrl,
      sessionManager: this.connection,
      // Uncompressed, as gRPC's own default: a session's messages are
      // small and many (a batch of assignments is a few kilobytes), and
      // gzip on every one cost both ends more CPU than the network saved.
      acceptCompression: [],
    });
    // Its hot messages are encoded and decoded by hand (see SessionClient).
    this.client = new SessionClient(transport);
  }

  start(handler: SessionHandler): void {
    this.loop ??= this.run(handler);
  }

  /** Ends the stream and stops reconnecting. */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    this.connection.abort();
  }

  private async run(handler: SessionHandler): Promise<void> {
    let failures = 0;
    while (!this.stopping.signal.aborted) {
      const outcome = await this.runSession(handler);
      if (this.stopping.signal.aborted) break;
      if (isSessionSuperseded(outcome.error)) {
        // Reconnecting would supersede the other process in turn, and so
        // on: two processes would take the id from each other forever.
        handler.superseded(ConnectError.from(outcome.error));
        break;
      }
      if (outcome.welcomed) failures = 0;
      const ceiling = handler.reconnectCeilingMs?.();
      const policy =
        ceiling === undefined
          ? this.options.reconnect
          : {
              ...this.options.reconnect,
              maxDelayMs: Math.min(this.options.reconnect.maxDelayMs, ceiling),
            };
      const delayMs = reconnectDelayMs(failures, policy, this.options.random);
      failures += 1;
      this.report(outcome, delayMs);
      await this.options.clock.sleep(delayMs, this.stopping.signal);
    }
  }

  private async runSession(
    handler: SessionHandler,
  ): Promise<{ welcomed: boolean; error?: unknown }> {
    const queue = new MessageQueue<SessionRequest>();
    const ending = new AbortController();
    const stream: SessionStream = {
      send: (request) => queue.push(request),
      signal: ending.signal,
    };
    const stop = () => ending.abort();
    this.stopping.signal.addEventListener("abort", stop, { once: true });
    let welcomed = false;
    try {
      queue.push(handler.hello());
      const responses = this.client.session(queue, { signal: ending.signal });
      for await (const response of responses) {
        const m = response.message;
        if (m.case === "welcome") {
          welcomed = true;
          // After the welcome, what queues up while a message is written
          // goes as one batch, if the control plane reads batches.
          if (m.value.acceptsBatches) queue.packing = BATCHES;
        }
        if (m.case === "batch") {
          for (const inner of m.value.messages) handler.receive(inner, stream);
        } else {
          handler.receive(response, stream);
        }
      }
      return { welcomed };
    } catch (error) {
      return { welcomed, error };
    } finally {
      this.stopping.signal.removeEventListener("abort", stop);
      queue.end();
      ending.abort();
      handler.ended(stream);
    }
  }

  private report(
    outcome: { welcomed: boolean; error?: unknown },
    delayMs: number,
  ): void {
    const { logger } = this.options;
    if (outcome.error === undefined) {
      logger.warn(
        { next_delay_ms: delayMs },
        "control plane ended the session; reconnecting",
      );
      return;
    }
    const error = ConnectError.from(outcome.error);
    const fields = {
      code: Code[error.code],
      error: error.rawMessage,
      next_delay_ms: delayMs,
    };
    if (error.code === Code.InvalidArgument && !outcome.welcomed) {
      // The server refused who the agent says it is: an operator has to
      // fix the agent's flags or the server; retrying lets that happen
      // without restarting the agent.
      logger.error(fields, "control plane refused the hello; retrying");
    } else {
      logger.warn(fields, "session stream lost; reconnecting");
    }
  }
}
