import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApiClients } from "../../cli/api-clients.js";
import { AgentState } from "../../gen/deerflow/v1/agent_pb.js";
import { type Child, startChild } from "./child-process.js";
import type { Cleanup } from "./cleanup.js";
import { DEERFLOW_BIN, deerflowNodeFlags } from "./deerflow-command.js";
import { waitFor } from "./wait-for.js";

/** How to start one `deerflow agent` process. */
export interface AgentProcessOptions {
  serverUrl: string;
  name: string;
  slots: number;
  logLevel?: string;
  nodeArgs?: readonly string[];
}

/** A running agent process. */
export interface AgentProcess {
  readonly name: string;
  readonly child: Child;
  /** SIGKILL, as a crash would; resolves once it has ended. */
  kill(): Promise<void>;
  /** SIGTERM: drains, then exits (a CPU profile is written then). */
  drain(): Promise<void>;
}

/**
 * Starts `bin/deerflow.js agent` (with the node flags of
 * `npm run deerflow`) with its own state directory.
 */
export async function startAgentProcess(
  cleanup: Cleanup,
  options: AgentProcessOptions,
): Promise<AgentProcess> {
  const stateDir = await mkdtemp(join(tmpdir(), "deerflow-bench-agent-"));
  cleanup.defer(`agent state ${stateDir}`, () =>
    rm(stateDir, { recursive: true, force: true }),
  );
  const args = [
    ...deerflowNodeFlags(),
    ...(options.nodeArgs ?? []),
    DEERFLOW_BIN,
    "agent",
    "--server",
    options.serverUrl,
    "--name",
    options.name,
    "--slots",
    String(options.slots),
    "--state-dir",
    stateDir,
  ];
  const child = startChild(`agent ${options.name}`, args, {
    ...process.env,
    DEERFLOW_LOG_LEVEL: options.logLevel ?? "info",
  });
  const profiled = options.nodeArgs?.includes("--cpu-prof") === true;
  const stop = cleanup.defer(`agent ${options.name}`, async () => {
    // A profiled agent must exit cleanly to write its profile: SIGTERM
    // drains it (it has nothing left to run by then), bounded.
    if (profiled) {
      void child.stop("SIGTERM");
      await Promise.race([
        child.exited,
        new Promise((r) => setTimeout(r, 15_000)),
      ]);
    }
    await child.stop("SIGKILL");
  });
  return {
    name: options.name,
    child,
    kill: async () => {
      await child.stop("SIGKILL");
      await stop();
    },
    drain: async () => {
      await child.stop("SIGTERM");
      await stop();
    },
  };
}

/** Waits until an agent of each name holds a session. */
export async function waitForAgents(
  clients: ApiClients,
  names: readonly string[],
  timeoutMs = 60_000,
): Promise<void> {
  await waitFor(
    `agents ${names.join(", ")} to connect`,
    async () => {
      const { agents } = await clients.agents.listAgents({});
      const connected = new Set(
        agents
          .filter((a) => a.state === AgentState.CONNECTED)
          .map((a) => a.name),
      );
      return names.every((n) => connected.has(n)) ? true : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );
}
