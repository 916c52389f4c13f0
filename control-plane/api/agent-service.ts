import { create, fromJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { and, asc, inArray, ne } from "drizzle-orm";
import {
  type Agent,
  AgentSchema,
  type AgentService,
  AgentState,
} from "../../gen/deerflow/v1/agent_pb.js";
import { ResourcesSchema } from "../../gen/deerflow/v1/common_pb.js";
import { drainAgent, findAgent, setCordoned } from "../agents/agent-orders.js";
import type { AgentSessionDeps } from "../agents/agent-session-deps.js";
import { agentGone, replicasGone } from "../agents/replicas-gone.js";
import { serveAgentSession } from "../agents/serve-agent-session.js";
import { agents, type Db, leases } from "../db/index.js";
import { HELD_LEASE_STATES } from "../leases/lease-state.js";
import { peerOf } from "../server/peer-address.js";
import { invalidArgument } from "./connect-errors.js";

/**
 * AgentService: the agents' session streams, listing agents, and the
 * operator's cordon, uncordon and drain.
 */
export function createAgentService(
  deps: AgentSessionDeps,
): Partial<ServiceImpl<typeof AgentService>> {
  return {
    // Plain gRPC sessions (every agent's) are served by GrpcBidiRoute
    // without connect-es; this serves the rest: gRPC-Web, Connect, and
    // gRPC calls with a compressed request or a deadline.
    session: (requests, context) =>
      serveAgentSession(requests, deps, peerOf(context), context.signal),

    async listAgents(req) {
      const rows = await deps.db
        .select()
        .from(agents)
        .where(
          req.includeDisconnected
            ? undefined
            : ne(agents.state, "DISCONNECTED"),
        )
        .orderBy(asc(agents.name));
      return { agents: await withLeases(deps.db, rows, deps.clock.now()) };
    },

    async getAgent(req) {
      const row = await requireAgent(deps.db, req.agent);
      const [agent] = await withLeases(deps.db, [row], deps.clock.now());
      return { agent };
    },

    async cordonAgent(req) {
      const row = await requireAgent(deps.db, req.agent);
      return {
        agent: await viewOf(
          deps.db,
          await setCordoned(deps.db, row.id, true),
          deps.clock.now(),
        ),
      };
    },

    async uncordonAgent(req) {
      const row = await requireAgent(deps.db, req.agent);
      return {
        agent: await viewOf(
          deps.db,
          await setCordoned(deps.db, row.id, false),
          deps.clock.now(),
        ),
      };
    },

    async drainAgent(req) {
      const row = await requireAgent(deps.db, req.agent);
      if (req.gracePeriodMs < 0) {
        throw invalidArgument("grace_period_ms", "must not be negative");
      }
      const grace = req.gracePeriodMs || DEFAULT_DRAIN_GRACE_MS;
      return {
        agent: await viewOf(
          deps.db,
          await drainAgent(deps.db, row.id, grace),
          deps.clock.now(),
        ),
      };
    },
  };
}

type AgentRow = typeof agents.$inferSelect;

/** Grace period of a drain that names none. */
const DEFAULT_DRAIN_GRACE_MS = 30_000;

/** The agent an API field names, or the error that says why not. */
async function requireAgent(db: Db, ref: string): Promise<AgentRow> {
  if (ref === "") throw invalidArgument("agent", "is required");
  const found = await findAgent(db, ref);
  switch (found.kind) {
    case "found":
      return found.agent;
    case "not_found":
      throw new ConnectError(`agent ${ref} not found`, Code.NotFound);
    case "ambiguous":
      throw new ConnectError(
        `agent: "${ref}" names ${found.count} agents; use the id`,
        Code.FailedPrecondition,
      );
    default:
      throw new ConnectError("agent lookup failed", Code.Internal);
  }
}

async function viewOf(
  db: Db,
  row: AgentRow | undefined,
  now: number,
): Promise<Agent | undefined> {
  if (!row) return undefined;
  const [agent] = await withLeases(db, [row], now);
  return agent;
}

async function withLeases(
  db: Db,
  rows: AgentRow[],
  now: number,
): Promise<Agent[]> {
  const ids = rows.map((r) => r.id);
  const held =
    ids.length === 0
      ? []
      : await db
          .select({ id: leases.id, agentId: leases.agentId })
          .from(leases)
          .where(
            and(
              inArray(leases.agentId, ids),
              inArray(leases.state, [...HELD_LEASE_STATES]),
            ),
          );
  const gone = await replicasGone(db, rows, now);
  return rows.map((row) =>
    toAgent(
      agentGone(row, gone, now) ? { ...row, state: "DISCONNECTED" } : row,
      held.filter((l) => l.agentId === row.id).map((l) => l.id),
    ),
  );
}

function toAgent(row: AgentRow, leaseIds: string[]): Agent {
  return create(AgentSchema, {
    id: row.id,
    name: row.name,
    state: AgentState[row.state],
    labels: row.labels,
    detectedLabels: row.detectedLabels,
    resources: fromJson(ResourcesSchema, row.resources, {
      ignoreUnknownFields: true,
    }),
    slots: row.slots,
    // Derived, not stored: slots less the leases the agent holds.
    freeSlots:
      row.state === "DISCONNECTED"
        ? 0
        : Math.max(0, row.slots - leaseIds.length),
    taskTypes: row.taskTypes.map((t) => ({
      type: String(t.type),
      pluginVersion: String(t.plugin_version ?? ""),
    })),
    version: row.version,
    connectedAt: row.connectedAt
      ? timestampFromDate(row.connectedAt)
      : undefined,
    lastHeartbeatAt: row.lastHeartbeatAt
      ? timestampFromDate(row.lastHeartbeatAt)
      : undefined,
    leaseIds,
  });
}
