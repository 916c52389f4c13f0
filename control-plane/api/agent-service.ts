import { create, fromJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { and, asc, eq, inArray, ne, or } from "drizzle-orm";
import {
  type Agent,
  AgentSchema,
  type AgentService,
  AgentState,
} from "../../gen/deerflow/v1/agent_pb.js";
import { ResourcesSchema } from "../../gen/deerflow/v1/common_pb.js";
import {
  type AgentSessionDeps,
  serveAgentSession,
} from "../agents/agent-session.js";
import { agents, type Db, leases } from "../db/index.js";
import { invalidArgument } from "./connect-errors.js";

/**
 * AgentService: the agents' session streams, and listing agents.
 * Cordon and drain arrive with the lifecycle issue and answer
 * Unimplemented until then.
 */
export function createAgentService(
  deps: AgentSessionDeps,
): Partial<ServiceImpl<typeof AgentService>> {
  return {
    session: (requests) => serveAgentSession(requests, deps),

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
      return { agents: await withLeases(deps.db, rows) };
    },

    async getAgent(req) {
      if (req.agent === "") throw invalidArgument("agent", "is required");
      const rows = await deps.db
        .select()
        .from(agents)
        .where(or(eq(agents.id, req.agent), eq(agents.name, req.agent)));
      if (rows.length === 0) {
        throw new ConnectError(`agent ${req.agent} not found`, Code.NotFound);
      }
      if (rows.length > 1) {
        throw new ConnectError(
          `agent: "${req.agent}" names ${rows.length} agents; use the id`,
          Code.FailedPrecondition,
        );
      }
      const [agent] = await withLeases(deps.db, rows);
      return { agent };
    },
  };
}

type AgentRow = typeof agents.$inferSelect;

async function withLeases(db: Db, rows: AgentRow[]): Promise<Agent[]> {
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
              inArray(leases.state, ["GRANTED", "ACTIVE"]),
            ),
          );
  return rows.map((row) =>
    toAgent(
      row,
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
