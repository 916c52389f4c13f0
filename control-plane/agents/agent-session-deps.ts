import type { Clock, Logger } from "../../core/index.js";
import type { Db } from "../db/index.js";
import type { Dispatcher } from "../dispatch/dispatcher.js";
import type { HeartbeatRecorder } from "../leases/heartbeat-recorder.js";
import type { AgentSession } from "./agent-session.js";

/** What a session needs from the control plane around it. */
export interface AgentSessionDeps {
  db: Db;
  dispatcher: Dispatcher;
  clock: Clock;
  logger: Logger;
  replicaId: string;
  leaseTtlMs: number;
  heartbeatIntervalMs: number;
  ackDeadlineMs: number;
  /** Sessions on this replica by agent id, for orders from any replica. */
  registry: Map<string, AgentSession>;
  serverVersion: string;
  /** Writes this replica's heartbeats, many sessions' in one statement. */
  heartbeats: HeartbeatRecorder;
}

/** What an agent reads beyond the basics (see Hello). */
export interface AgentReads {
  /** Batches: what queues up goes out as one message. */
  batches: boolean;
  /** An assignment's config and context as JSON bytes. */
  jsonValues: boolean;
}
