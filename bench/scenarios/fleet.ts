import { Fleet } from "../fleet/fleet.js";
import { connectApi } from "../harness/api.js";
import { createPostgresDatabase } from "../harness/bench-database.js";
import { startControlPlaneProcess } from "../harness/control-plane-process.js";
import {
  type DeerFlowSystem,
  startRun,
  waitForRunEnd,
} from "../harness/deer-flow-system.js";
import { type Metric, metric } from "../harness/metric.js";
import { ProcSampler } from "../harness/proc-sampler.js";
import { round } from "../harness/round.js";
import { createRunProbe } from "../harness/run-probe.js";
import { percentiles } from "../harness/stats.js";
import { sleep } from "../harness/wait-for.js";
import type { Scenario, ScenarioContext } from "../scenario.js";

const MIB = 1024 ** 2;
const LABELS = { fleet: "sim" };

/** One fleet size's measurements. */
interface FleetSample {
  agents: number;
  connectS: number;
  /** Per repetition: idle (heartbeats only) and busy (tasks running). */
  phases: {
    idle: PhaseUsage;
    busy: PhaseUsage & { tasks: number; tasksPerSecond: number; state: string };
  }[];
  lost: number;
}

interface PhaseUsage {
  seconds: number;
  cpuPercent: number;
  rssMaxMiB: number;
  heartbeatAckMs: ReturnType<typeof percentiles>;
}

/** Issue 6, scenario 5. */
export const fleetScenario: Scenario = {
  name: "fleet",
  title: "Fleet: thousands of connected agents",
  description:
    "1,000 and 5,000 simulated agents by default, spread over 4 " +
    "processes, each agent a real session on its own HTTP/2 connection: " +
    "a hello advertising `noop`, credits, a heartbeat at the interval the " +
    "Welcome sets (5 s by default, phases spread at random), and an " +
    "acknowledgement and a SUCCESS result for each assignment. The " +
    "control plane runs as its own process; its CPU (percent of one " +
    "core) and RSS are sampled from /proc every 250 ms while the fleet " +
    "only heartbeats (idle) and while a run of no-op tasks is spread over " +
    "it (busy). Heartbeat round trips are timed by the simulated agents.",
  pglite: false,
  run: runFleet,
};

async function runFleet(ctx: ScenarioContext) {
  const { options, progress } = ctx;
  const sizes = options.fleetAgents ?? (options.quick ? [40] : [1000, 5000]);
  const tasks = options.fleetTasks ?? (options.quick ? 40 : 2000);
  const idleMs = options.quick ? 3000 : 10_000;
  const samples: FleetSample[] = [];
  const notes: string[] = [];
  for (const size of sizes) {
    try {
      samples.push(await measureFleet(ctx, size, tasks, idleMs));
    } catch (error) {
      notes.push(`${size} agents: not measured: ${(error as Error).message}`);
      progress.info("fleet size failed", {
        agents: size,
        error: (error as Error).message,
      });
    }
  }
  return {
    parameters: {
      agents: sizes,
      processes: 4,
      agents_per_connection: options.fleetAgentsPerConnection,
      tasks_while_connected: tasks,
      idle_window_s: idleMs / 1000,
      repeat: options.repeat,
      database: "postgres",
    },
    metrics: samples.flatMap(fleetMetrics),
    raw: { samples },
    notes,
  };
}

async function measureFleet(
  ctx: ScenarioContext,
  size: number,
  tasks: number,
  idleMs: number,
): Promise<FleetSample> {
  const { options, progress } = ctx;
  const database = await createPostgresDatabase(options.databaseUrl);
  const dropDatabase = ctx.cleanup.defer(`database ${database.url}`, () =>
    database.drop(),
  );
  const server = await startControlPlaneProcess(ctx.cleanup, {
    database,
    logLevel: options.logLevel,
    nodeArgs: options.cpuProfDir
      ? ["--cpu-prof", "--cpu-prof-dir", options.cpuProfDir]
      : [],
  });
  const sampler = new ProcSampler(server.pid);
  const clients = connectApi(ctx.cleanup, server.url);
  const system: DeerFlowSystem = {
    database,
    server,
    clients,
    agents: [],
    probe: createRunProbe(ctx.cleanup, database, clients),
  };
  const fleet = await Fleet.start(ctx.cleanup, {
    serverUrl: server.url,
    agents: size,
    labels: LABELS,
    agentsPerConnection: options.fleetAgentsPerConnection,
  });
  const connectStarted = performance.now();
  fleet.connect();
  await fleet.connected(Math.max(120_000, size * 100));
  const connectS = (performance.now() - connectStarted) / 1000;
  progress.info("fleet connected", { agents: size, seconds: round(connectS) });
  fleet.takeLatencies();
  const phases: FleetSample["phases"] = [];
  for (let r = 0; r < options.repeat; r += 1) {
    const idleFrom = performance.now();
    await sleep(idleMs);
    const idle = phase(sampler, fleet, idleFrom);
    const busyFrom = performance.now();
    const runId = await startRun(clients, {
      name: `fleet-${size}`,
      tasks: Array.from({ length: tasks }, (_, i) => ({
        id: `t${i}`,
        type: "noop",
        node_selector: LABELS,
      })),
    });
    const end = await waitForRunEnd(
      system,
      runId,
      options.sampleTimeoutS * 1000,
    );
    const busy = phase(sampler, fleet, busyFrom);
    phases.push({
      idle,
      busy: {
        ...busy,
        tasks,
        tasksPerSecond: tasks / busy.seconds,
        state: end.state,
      },
    });
    progress.info("fleet sample", {
      agents: size,
      idle_cpu_percent: round(idle.cpuPercent),
      idle_rss_mib: round(idle.rssMaxMiB),
      busy_rss_mib: round(busy.rssMaxMiB),
      tasks_per_s: round(tasks / busy.seconds),
      state: end.state,
    });
  }
  const lost = fleet.totals().lost;
  sampler.stop();
  await server.stop();
  await dropDatabase();
  return { agents: size, connectS, phases, lost };
}

function phase(sampler: ProcSampler, fleet: Fleet, fromMs: number): PhaseUsage {
  sampler.take();
  const toMs = performance.now();
  const usage = sampler.window(fromMs, toMs);
  return {
    seconds: (toMs - fromMs) / 1000,
    cpuPercent: usage.cpuPercent,
    rssMaxMiB: usage.rssMaxBytes / MIB,
    heartbeatAckMs: percentiles(fleet.takeLatencies()),
  };
}

function fleetMetrics(sample: FleetSample): Metric[] {
  const n = sample.agents;
  const idle = sample.phases.map((p) => p.idle);
  const busy = sample.phases.map((p) => p.busy);
  const rssTarget =
    n >= 5000
      ? { op: "<=" as const, value: 1024, text: "under 1 GiB at 5,000 agents" }
      : undefined;
  return [
    metric({
      name: `${n} agents: control-plane RSS, busy (max)`,
      unit: "MiB",
      better: "lower",
      samples: busy.map((p) => p.rssMaxMiB),
      target: rssTarget,
    }),
    metric({
      name: `${n} agents: control-plane RSS, idle (max)`,
      unit: "MiB",
      better: "lower",
      samples: idle.map((p) => p.rssMaxMiB),
    }),
    metric({
      name: `${n} agents: control-plane CPU, idle`,
      unit: "% of one core",
      better: "lower",
      samples: idle.map((p) => p.cpuPercent),
    }),
    metric({
      name: `${n} agents: control-plane CPU, busy`,
      unit: "% of one core",
      better: "lower",
      samples: busy.map((p) => p.cpuPercent),
    }),
    metric({
      name: `${n} agents: heartbeat round trip p50, idle`,
      unit: "ms",
      better: "lower",
      samples: idle.map((p) => p.heartbeatAckMs.p50),
    }),
    metric({
      name: `${n} agents: heartbeat round trip p99, idle`,
      unit: "ms",
      better: "lower",
      samples: idle.map((p) => p.heartbeatAckMs.p99),
    }),
    metric({
      name: `${n} agents: heartbeat round trip p99, busy`,
      unit: "ms",
      better: "lower",
      samples: busy.map((p) => p.heartbeatAckMs.p99),
    }),
    metric({
      name: `${n} agents: tasks/s while connected`,
      unit: "tasks/s",
      better: "higher",
      samples: busy.map((p) => p.tasksPerSecond),
    }),
    metric({
      name: `${n} agents: time to connect all`,
      unit: "s",
      better: "lower",
      samples: [sample.connectS],
    }),
    metric({
      name: `${n} agents: sessions lost`,
      unit: "sessions",
      better: "lower",
      samples: [sample.lost],
    }),
  ];
}
