import { type DirLock, lockDir, makeDir } from "../core/index.js";
import { isProcessAlive } from "../plugins/process/index.js";

/**
 * Takes the agent's state dir for this process, creating it if need be,
 * and writes `processToken` into its lock.
 * The state dir holds the agent id: two processes on one would both
 * connect as one agent, and one's leases, slots and credits would be
 * mixed up with the other's. A second agent on it is refused, naming the
 * path and the pid that holds it; a lock left by a killed agent is taken
 * over (see lockDir), and its token is the predecessor's the agent's
 * hello names: that process is gone.
 */
export async function lockStateDir(
  stateDir: string,
  processToken: string,
): Promise<DirLock> {
  await makeDir(stateDir, 0o700).catch((error: unknown) => {
    throw new Error(
      `--state-dir ${stateDir}: cannot create it: ${(error as Error).message}`,
    );
  });
  return lockDir(stateDir, {
    label: "--state-dir",
    holder:
      "another agent runs on this state dir; give each agent its own " +
      "--state-dir, since the agent id is kept there",
    isAlive: isProcessAlive,
    token: processToken,
  });
}
