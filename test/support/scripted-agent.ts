import { randomUUID } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import {
  createGrpcTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { AsyncQueue } from "../../core/index.js";
import {
  AgentService,
  type Assignment,
  type LeaseRef,
  type SessionRequest,
  SessionRequestSchema,
  type SessionResponse,
} from "../../gen/deerflow/v1/agent_pb.js";

type RequestMessage = MessageInitShape<typeof SessionRequestSchema>["message"];

/**
 * An agent session the test drives message by message: it says hello,
 * then sends only what the test tells it to (no heartbeats), so that a
 * test can hold a lease, let it lapse, and deliver a late result exactly
 * when it wants.
 */
export interface ScriptedAgent {
  readonly agentId: string;
  send(message: RequestMessage): void;
  /** Every response so far, in order. */
  received(): readonly SessionResponse[];
  /** The first response, from the session's start, that matches. */
  next(
    match: (response: SessionResponse) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<SessionResponse>;
  /** How the session ended (an error, or null while it is open). */
  ended(): unknown;
  /** Ends the stream and its connection. */
  close(): Promise<void>;
}

export interface ScriptedAgentOptions {
  name: string;
  /** Task types it advertises; default ["shell"]. */
  taskTypes?: readonly string[];
  slots?: number;
  /** Labels its hello declares; default none. */
  labels?: Readonly<Record<string, string>>;
  /** Says in its hello that it reads batches; default false. */
  acceptsBatches?: boolean;
  /** Says it reads config and context as JSON bytes; default false. */
  acceptsJsonValues?: boolean;
  /** Its agent id; default a new one. Reuse one to reconnect "as" it. */
  agentId?: string;
  /** Leases its hello says it still holds, to re-attach. */
  heldLeases?: readonly LeaseRef[];
}

/** Opens a session to the control plane at `url` and sends its Hello. */
export async function openScriptedAgent(
  url: string,
  options: ScriptedAgentOptions,
): Promise<ScriptedAgent> {
  const agentId = options.agentId ?? randomUUID();
  const connection = new Http2SessionManager(url);
  const client = createClient(
    AgentService,
    createGrpcTransport({ baseUrl: url, sessionManager: connection }),
  );
  const outgoing = new AsyncQueue<SessionRequest>();
  const send = (message: RequestMessage) =>
    outgoing.push(create(SessionRequestSchema, { message }));
  send({
    case: "hello",
    value: {
      agentId,
      name: options.name,
      version: "scripted",
      slots: options.slots ?? 1,
      labels: { ...options.labels },
      acceptsBatches: options.acceptsBatches ?? false,
      acceptsJsonValues: options.acceptsJsonValues ?? false,
      heldLeases: [...(options.heldLeases ?? [])],
      taskTypes: (options.taskTypes ?? ["shell"]).map((type) => ({
        type,
        pluginVersion: "scripted",
      })),
    },
  });
  const received: SessionResponse[] = [];
  let ended: unknown = null;
  const abort = new AbortController();
  const reading = (async () => {
    try {
      for await (const response of client.session(outgoing, {
        signal: abort.signal,
      })) {
        received.push(response);
      }
      ended = new Error("the control plane ended the session");
    } catch (error) {
      ended = error;
    }
  })();
  const agent: ScriptedAgent = {
    agentId,
    send,
    received: () => received,
    ended: () => ended,
    async next(match, what, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.find(match);
        if (found) return found;
        if (ended !== null) {
          throw new Error(`${what}: session ended first: ${String(ended)}`);
        }
        if (Date.now() > deadline) {
          throw new Error(`${what} did not arrive within ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      outgoing.close();
      abort.abort();
      await reading;
      connection.abort();
    },
  };
  await agent.next((r) => r.message.case === "welcome", "welcome");
  return agent;
}

/** The assignments in one response, whether sent alone or in a batch. */
export function assignmentsIn(response: SessionResponse): Assignment[] {
  const m = response.message;
  if (m.case === "assignment") return [m.value];
  if (m.case !== "batch") return [];
  return m.value.messages.flatMap((inner) =>
    inner.message.case === "assignment" ? [inner.message.value] : [],
  );
}
