import type { ApiClients } from "../../cli/api-clients.js";
import { RunView } from "../../gen/deerflow/v1/run_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { startRunRequest } from "../../sdk/start-run.js";
import type { ScenarioContext } from "../scenario.js";
import {
  type AgentProcess,
  startAgentProcess,
  waitForAgents,
} from "./agent-process.js";
import { connectApi } from "./api.js";
import {
  type BenchDatabase,
  createPgliteDatabase,
  createPostgresDatabase,
} from "./bench-database.js";
import { isRunning } from "./child-process.js";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "./control-plane-process.js";
import { createRunProbe, type RunProbe } from "./run-probe.js";
import { sleep } from "./wait-for.js";

/** A control plane, its database and its agents, all started for a scenario. */
export interface DeerFlowSystem {
  database: BenchDatabase;
  server: ControlPlaneProcess;
  clients: ApiClients;
  agents: AgentProcess[];
  probe: RunProbe;
}

/** How to start a {@link DeerFlowSystem}. */
export interface DeerFlowSystemOptions {
  /** Agent processes; default the --agents option. */
  agents?: number;
  /** Slots of each; default the --slots option. */
  slots?: number;
  /** Names agents `<prefix>-<i>`; default "agent". */
  agentPrefix?: string;
  leaseTtlMs?: number;
  /** Use PGlite even without --pglite (never, so far). */
  pglite?: boolean;
}

/**
 * Starts a fresh database, a control-plane process on it and agent
 * processes connected to it, and registers all of them with the
 * scenario's cleanup. With --cpu-prof-dir the control plane is profiled.
 */
export async function startDeerFlow(
  ctx: ScenarioContext,
  options: DeerFlowSystemOptions = {},
): Promise<DeerFlowSystem> {
  const { cleanup, options: bench, progress } = ctx;
  const pglite = options.pglite ?? bench.pglite;
  const database = pglite
    ? await createPgliteDatabase()
    : await createPostgresDatabase(bench.databaseUrl);
  cleanup.defer(`database ${database.url ?? database.dataDir}`, () =>
    database.drop(),
  );
  const server = await startControlPlaneProcess(cleanup, {
    database,
    logLevel: bench.logLevel,
    leaseTtlMs: options.leaseTtlMs,
    nodeArgs: profileArgs(bench.cpuProfDir),
  });
  progress.info("control plane started", {
    url: server.url,
    pid: server.pid,
    database: database.kind,
  });
  const clients = connectApi(cleanup, server.url);
  const agents = await startAgents(ctx, server.url, {
    count: options.agents ?? bench.agents,
    slots: options.slots ?? bench.slots,
    prefix: options.agentPrefix ?? "agent",
  });
  return {
    database,
    server,
    clients,
    agents,
    probe: createRunProbe(cleanup, database, clients),
  };
}

/** Starts agent processes and waits until all of them hold a session. */
export async function startAgents(
  ctx: ScenarioContext,
  serverUrl: string,
  options: { count: number; slots: number; prefix: string },
): Promise<AgentProcess[]> {
  // Started together: each takes seconds to load, mostly waiting.
  const agents = await Promise.all(
    Array.from({ length: options.count }, (_, i) =>
      startAgentProcess(ctx.cleanup, {
        serverUrl,
        name: `${options.prefix}-${i}`,
        slots: options.slots,
        logLevel: ctx.options.logLevel,
        nodeArgs: profileArgs(ctx.options.agentCpuProfDir),
      }),
    ),
  );
  const clients = connectApi(ctx.cleanup, serverUrl);
  try {
    await waitForAgents(
      clients,
      agents.map((a) => a.name),
    );
  } catch (error) {
    const exited = agents.filter((a) => !isRunning(a.child));
    const detail = exited
      .map((a) => `\n--- ${a.name} exited:\n${a.child.tail().slice(-2000)}`)
      .join("");
    throw new Error(`${(error as Error).message}${detail}`, { cause: error });
  }
  return agents;
}

function profileArgs(dir: string | undefined): string[] {
  return dir ? ["--cpu-prof", "--cpu-prof-dir", dir] : [];
}

/**
 * Starts a run of an inline definition; resolves with its id. With
 * `timeoutMs`, a StartRun that has not answered by then fails with
 * DeadlineExceeded (large definitions can take minutes to validate).
 */
/**
 * Starts a run of `definition` as the SDK and the CLI send one: the
 * definition as JSON text, and (unless `view` says otherwise) an answer
 * without the run's tasks, since only the id is read. Returns the id.
 */
export async function startRun(
  clients: ApiClients,
  definition: JsonObject,
  timeoutMs?: number,
  view: RunView = RunView.BASIC,
): Promise<string> {
  const { run } = await clients.runs.startRun(
    startRunRequest({ definition: JSON.stringify(definition), view }),
    timeoutMs === undefined ? {} : { timeoutMs },
  );
  if (!run) throw new Error("StartRun answered without a run");
  return run.id;
}

/** How a waited-for run ended. */
export interface RunEnd {
  state: string;
  /** performance.now() when the harness saw it end (or gave up). */
  seenAtMs: number;
  timedOut: boolean;
  /** Tasks in SUCCESS when it timed out. */
  succeeded?: number | undefined;
}

/**
 * Polls until the run ends, or `timeoutMs` passes. A run still going
 * then is cancelled, so it does not load the next measurement.
 */
export async function waitForRunEnd(
  system: DeerFlowSystem,
  runId: string,
  timeoutMs: number,
): Promise<RunEnd> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const status = await system.probe.status(runId);
    const now = performance.now();
    if (status.done)
      return { state: status.state, seenAtMs: now, timedOut: false };
    if (now > deadline) {
      const counted = await system.probe.status(runId, true);
      await system.clients.runs.cancelRun({
        runId,
        reason: "benchmark sample timed out",
      });
      return {
        state: counted.state,
        seenAtMs: now,
        timedOut: true,
        succeeded: counted.succeeded,
      };
    }
    await sleep(system.probe.intervalMs);
  }
}
