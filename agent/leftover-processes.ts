import type { Logger } from "pino";
import {
  isProcessAlive,
  killMarkedProcesses,
} from "../plugins/process/index.js";

/** Set in the environment of every process an agent's attempts start. */
export const AGENT_ID_ENV = "DEERFLOW_AGENT_ID";
/** Beside it: the pid of the agent process that started the attempt. */
export const AGENT_PID_ENV = "DEERFLOW_AGENT_PID";

/**
 * The assignment with the agent's marks added to its env: every process
 * the attempt starts carries them, so a restarted agent can find what a
 * killed one left running. (Object.assign: an object literal that starts
 * with a spread and goes on takes microseconds in V8.)
 */
export function withAgentMarks<T extends { env: Record<string, string> }>(
  assignment: T,
  agentId: string,
): T {
  return Object.assign({}, assignment, {
    env: Object.assign({}, assignment.env, {
      [AGENT_ID_ENV]: agentId,
      [AGENT_PID_ENV]: String(process.pid),
    }),
  });
}

/** TERM, then KILL after this long. */
const LEFTOVER_GRACE_MS = 5_000;

/**
 * Stops processes that an earlier run of this agent started and that
 * outlived it (the agent was SIGKILLed or its host's supervisor lost it).
 * Their leases are gone with that run, so the control plane has handed
 * their tasks to someone else; left running, they would run beside the
 * retry. Called once at start, before any attempt of this run exists.
 *
 * Processes whose agent is another live process are not leftovers: a
 * copy of this agent's state dir runs as the same agent id, and its
 * attempts are its own to stop. Those are logged and left alone. Linux
 * only (it reads /proc); elsewhere it finds nothing.
 */
export async function stopLeftoverProcesses(
  agentId: string,
  logger: Logger,
): Promise<number> {
  const livingAgents = new Set<number>();
  const stopped = await killMarkedProcesses(`${AGENT_ID_ENV}=${agentId}`, {
    graceMs: LEFTOVER_GRACE_MS,
    select: async (environment) => {
      const pid = agentPidIn(environment);
      if (pid === undefined || pid === process.pid) return true;
      if (!(await isProcessAlive(pid))) return true;
      livingAgents.add(pid);
      return false;
    },
  });
  if (stopped > 0) {
    logger.warn(
      { processes: stopped },
      "stopped processes left by an earlier run of this agent",
    );
  }
  if (livingAgents.size > 0) {
    logger.warn(
      { agent_pids: [...livingAgents] },
      "another live process runs attempts as this agent id (a copy of its state dir?): its processes are left alone",
    );
  }
  return stopped;
}

/**
 * The agent pid an attempt's process carries, if any. An earlier version
 * of the agent set none: such a process counts as a leftover, as before.
 */
function agentPidIn(environment: readonly string[]): number | undefined {
  const prefix = `${AGENT_PID_ENV}=`;
  const entry = environment.find((e) => e.startsWith(prefix));
  const pid = Number(entry?.slice(prefix.length));
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
