import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type LeaseSchema,
  LeaseState,
} from "../../gen/deerflow/v1/lease_pb.js";
import type { LeaseRow } from "../leases/revoke-lease.js";

const LEASE_STATES: Record<string, LeaseState> = {
  GRANTED: LeaseState.GRANTED,
  ACTIVE: LeaseState.ACTIVE,
  RELEASED: LeaseState.RELEASED,
  EXPIRED: LeaseState.EXPIRED,
  REVOKED: LeaseState.REVOKED,
};

/** A lease row as ListLeases and RevokeLease answer with it. */
export function toLease(row: LeaseRow): MessageInitShape<typeof LeaseSchema> {
  return {
    id: row.id,
    fencingToken: BigInt(row.fencing_token),
    runId: row.run_id,
    taskId: row.task_id,
    attempt: row.attempt,
    agentId: row.agent_id,
    state: LEASE_STATES[row.state] ?? LeaseState.UNSPECIFIED,
    grantedAt: timestampFromDate(new Date(row.granted_at)),
    expiresAt: timestampFromDate(new Date(row.expires_at)),
  };
}
