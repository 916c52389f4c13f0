import type {
  LeaseRef,
  SessionRequest,
} from "../../gen/deerflow/v1/agent_pb.js";
import { invalidArgument, requireUuid } from "../api/connect-errors.js";

/**
 * Checks the lease refs of one agent message, before anything of it is
 * handled: each lease id must be a UUID and each fencing token one the
 * control plane could have granted (0 to 2^53 - 1, as it stores them).
 * The control plane names every lease this way, so anything else is an
 * agent's bug; the session ends with InvalidArgument naming the field
 * (`message.heartbeat.leases[2].lease_id`), whatever kind of message
 * carried it, rather than each kind failing in its own way.
 */
export function checkLeaseRefs(request: SessionRequest, at: string): void {
  const m = request.message;
  switch (m.case) {
    case "heartbeat":
      m.value.leases.forEach((ref, i) => {
        checkRef(ref, `${at}.heartbeat.leases[${i}]`);
      });
      return;
    case "acknowledge":
    case "reject":
    case "logChunk":
    case "metricBatch":
    case "result":
      if (m.value.lease)
        checkRef(m.value.lease, `${at}.${field(m.case)}.lease`);
      return;
  }
}

function checkRef(ref: LeaseRef, at: string): void {
  requireUuid(`${at}.lease_id`, ref.leaseId);
  const token = ref.fencingToken;
  if (token < 0n || token > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidArgument(
      `${at}.fencing_token`,
      `must be from 0 to ${Number.MAX_SAFE_INTEGER}, not ${token}`,
    );
  }
}

/** A message kind as the proto spells its field (log_chunk). */
function field(kind: string): string {
  return kind.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
