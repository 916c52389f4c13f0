import type { Logger } from "pino";
import { killMarkedProcesses } from "../plugins/process/index.js";

/** Set in the environment of every process an agent's attempts start. */
export const AGENT_ID_ENV = "DEERFLOW_AGENT_ID";

/** TERM, then KILL after this long. */
const LEFTOVER_GRACE_MS = 5_000;

/**
 * Stops processes that an earlier run of this agent started and that
 * outlived it (the agent was SIGKILLed or its host's supervisor lost it).
 * Their leases are gone with that run, so the control plane has handed
 * their tasks to someone else; left running, they would run beside the
 * retry. Called once at start, before any attempt of this run exists.
 * Linux only (it reads /proc); elsewhere it finds nothing.
 */
export async function stopLeftoverProcesses(
  agentId: string,
  logger: Logger,
): Promise<number> {
  const stopped = await killMarkedProcesses(`${AGENT_ID_ENV}=${agentId}`, {
    graceMs: LEFTOVER_GRACE_MS,
  });
  if (stopped > 0) {
    logger.warn(
      { processes: stopped },
      "stopped processes left by an earlier run of this agent",
    );
  }
  return stopped;
}
