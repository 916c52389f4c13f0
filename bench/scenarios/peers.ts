import { fileURLToPath } from "node:url";
import {
  createPostgresDatabase,
  freeConnections,
  postgresDurability,
} from "../harness/bench-database.js";
import { type Child, startChild, tsxEntry } from "../harness/child-process.js";
import { Cleanup } from "../harness/cleanup.js";
import { startDeerFlow } from "../harness/deer-flow-system.js";
import { type Metric, metric } from "../harness/metric.js";
import { round } from "../harness/round.js";
import { sleep, waitFor } from "../harness/wait-for.js";
import { type PeerConfig, peerConfigs } from "../peers/peer-configs.js";
import type { PeerClient, PeerTarget } from "../peers/peer-system.js";
import type { PeerWorkerSettings } from "../peers/peer-worker-process.js";
import type { Scenario, ScenarioContext } from "../scenario.js";
import { timeNoopRun } from "./throughput.js";

const WORKER_ENTRY = fileURLToPath(
  new URL("../peers/peer-worker-process.ts", import.meta.url),
);
/** The local Redis the brief names; BullMQ only. */
const LOCAL_REDIS = { host: "127.0.0.1", port: 6379 };
/** How often the harness asks a peer how many jobs are left. */
const POLL_MS = 20;

/** One peer configuration's measurements (or why there are none). */
interface PeerOutcome {
  system: string;
  label: string;
  tasksPerSecond: number[];
  versions: Record<string, string>;
  durability?: string | undefined;
  error?: string | undefined;
  /** How the configuration had to be fitted to this machine, if it was. */
  note?: string | undefined;
}

/** Issue 6, scenario 7. */
export const peersScenario: Scenario = {
  name: "peers",
  title: "Peers: the same no-op work on graphile-worker, pg-boss, BullMQ",
  description:
    "N no-op jobs (10,000 by default) on Deer Flow (a run of N noop tasks, " +
    "4 agent processes with 256 slots) and on each peer, on the same " +
    "machine and the same PostgreSQL server (BullMQ on the local Redis), " +
    "each peer in a fresh database or queue. Peer workers run as " +
    "separate processes and are started before the clock; the clock runs " +
    "from the bulk enqueue of N jobs until the peer has no job left " +
    "(polled every 20 ms), as Deer Flow's runs from StartRun to the " +
    "run's SUCCESS. Each peer runs in two configurations, the same " +
    "concurrency as ours and its own best tuning, and the ratio compares " +
    "Deer Flow with the peer's better one.",
  pglite: false,
  run: runPeers,
};

async function runPeers(ctx: ScenarioContext) {
  const { options, progress } = ctx;
  const count = options.tasks?.[0] ?? (options.quick ? 200 : 10_000);
  const timeoutMs = options.sampleTimeoutS * 1000;
  const notes: string[] = [];
  const ours = await measureOurs(ctx, count, timeoutMs, notes);
  progress.info("deer flow", { tasks_per_s: ours.map((v) => round(v)) });
  const outcomes: PeerOutcome[] = [];
  for (const config of peerConfigs(options.agents, options.slots)) {
    const outcome = await measurePeer(ctx, config, count, timeoutMs);
    outcomes.push(outcome);
    progress.info("peer", {
      system: outcome.system,
      config: outcome.label,
      tasks_per_s: outcome.tasksPerSecond.map((v) => round(v)),
      ...(outcome.error ? { error: outcome.error } : {}),
    });
    if (outcome.note)
      notes.push(`${outcome.system} (${outcome.label}): ${outcome.note}`);
    if (outcome.error) {
      notes.push(
        `${outcome.system} (${outcome.label}) not measured: ${outcome.error}`,
      );
    }
  }
  const versions = Object.assign({}, ...outcomes.map((o) => o.versions));
  notes.push(...(await durabilityNotes(ctx, outcomes)));
  return {
    parameters: {
      tasks: count,
      deer_flow: `${options.agents} agent processes × ${options.slots} slots`,
      peers: outcomes.map((o) => `${o.system}: ${o.label}`),
      versions,
      repeat: options.repeat,
      warmup: options.warmup,
      warmup_tasks: Math.min(options.warmupTasks, count),
    },
    metrics: peerMetrics(count, ours, outcomes),
    raw: { deerFlow: ours, peers: outcomes },
    notes,
    machine: versions.redis ? { redis: versions.redis } : {},
  };
}

/** Deer Flow on its own database; stopped before the peers run. */
async function measureOurs(
  ctx: ScenarioContext,
  count: number,
  timeoutMs: number,
  notes: string[],
): Promise<number[]> {
  const own = new Cleanup();
  const undo = ctx.cleanup.defer(
    "deer flow of the peers scenario",
    async () => {
      await own.runAll();
    },
  );
  try {
    const system = await startDeerFlow({ ...ctx, cleanup: own });
    for (let w = 0; w < ctx.options.warmup; w += 1) {
      await timeNoopRun(system, warmupSize(ctx, count), timeoutMs);
    }
    const rates: number[] = [];
    for (let r = 0; r < ctx.options.repeat; r += 1) {
      const sample = await timeNoopRun(system, count, timeoutMs);
      rates.push(sample.tasksPerSecond);
      if (sample.timedOut) {
        notes.push(
          `Deer Flow did not finish N=${count} within ${ctx.options.sampleTimeoutS} s; its rate is partial.`,
        );
        break;
      }
    }
    return rates;
  } finally {
    await undo();
  }
}

async function measurePeer(
  ctx: ScenarioContext,
  config: PeerConfig,
  count: number,
  timeoutMs: number,
): Promise<PeerOutcome> {
  const own = new Cleanup();
  const undo = ctx.cleanup.defer(`peer ${config.system.name}`, async () => {
    await own.runAll();
  });
  const outcome: PeerOutcome = {
    system: config.system.name,
    label: config.label,
    tasksPerSecond: [],
    versions: {},
  };
  try {
    const target = await peerTarget(ctx, own, config);
    const pool = target.connectionsPerProcess;
    if (
      config.system.name === "graphile-worker" &&
      pool !== undefined &&
      pool < config.worker.concurrency + 2
    ) {
      outcome.note = `a pool of ${pool} connections per process, not concurrency + 2: the server's free connections shared out (a no-op job holds none while it runs)`;
    }
    const client = await config.system.connect(target);
    own.defer(`${config.system.name} client`, () => client.close());
    outcome.versions = client.versions;
    outcome.durability = client.durability;
    await startWorkers(own, config, target);
    for (let w = 0; w < ctx.options.warmup; w += 1) {
      await drain(client, warmupSize(ctx, count), timeoutMs);
    }
    for (let r = 0; r < ctx.options.repeat; r += 1) {
      const seconds = await drain(client, count, timeoutMs);
      outcome.tasksPerSecond.push(count / seconds);
    }
  } catch (error) {
    outcome.error = (error as Error).message.split("\n")[0];
  } finally {
    await undo();
  }
  return outcome;
}

/**
 * What each system keeps on disk when it counts a job done: Deer Flow
 * and the PostgreSQL peers share one server; BullMQ says its Redis's.
 */
async function durabilityNotes(
  ctx: ScenarioContext,
  outcomes: readonly PeerOutcome[],
): Promise<string[]> {
  const onPostgres = outcomes
    .filter((o) => o.durability === undefined && o.error === undefined)
    .map((o) => o.system);
  const notes = [
    `Deer Flow${[...new Set(onPostgres)].map((s) => `, ${s}`).join("")}: ${await postgresDurability(ctx.options.databaseUrl)}.`,
  ];
  for (const o of outcomes) {
    if (o.durability === undefined) continue;
    const note = `${o.system}: ${o.durability}.`;
    if (!notes.includes(note)) notes.push(note);
  }
  return notes;
}

/** The jobs of a warm-up round: the same for Deer Flow and each peer. */
function warmupSize(ctx: ScenarioContext, count: number): number {
  return Math.min(ctx.options.warmupTasks, count);
}

async function peerTarget(
  ctx: ScenarioContext,
  own: Cleanup,
  config: PeerConfig,
): Promise<PeerTarget> {
  const queue = `deerflow_bench_${Date.now().toString(36)}`;
  if (config.system.name === "bullmq") return { redis: LOCAL_REDIS, queue };
  const database = await createPostgresDatabase(ctx.options.databaseUrl);
  own.defer(`database ${database.url}`, () => database.drop());
  // A few left over for the harness's own client and the peer's set-up.
  const free = (await freeConnections(ctx.options.databaseUrl)) - 4;
  return {
    databaseUrl: database.url,
    queue,
    connectionsPerProcess: Math.max(2, Math.floor(free / config.processes)),
  };
}

/** Starts the peer's worker processes and waits until each is ready. */
async function startWorkers(
  own: Cleanup,
  config: PeerConfig,
  target: PeerTarget,
): Promise<Child[]> {
  const children: Child[] = [];
  const ready = new Set<Child>();
  for (let p = 0; p < config.processes; p += 1) {
    const settings: PeerWorkerSettings = {
      system: config.system.name,
      target,
      config: config.worker,
    };
    const child = startChild(
      `${config.system.name} worker ${p}`,
      tsxEntry(WORKER_ENTRY),
      { ...process.env, DEERFLOW_BENCH_PEER: JSON.stringify(settings) },
    );
    own.defer(child.name, async () => {
      void child.stop("SIGTERM");
      const ended = await Promise.race([
        child.exited.then(() => true),
        sleep(15_000).then(() => false),
      ]);
      if (!ended) await child.stop("SIGKILL");
    });
    child.onLine((line) => {
      if (line.includes('"peer-ready"')) ready.add(child);
    });
    children.push(child);
  }
  await waitFor(
    `${config.processes} ${config.system.name} worker processes`,
    () => {
      const dead = children.find((c) => c.process.exitCode !== null);
      if (dead)
        throw new Error(`${dead.name} exited: ${dead.tail().slice(-1500)}`);
      return ready.size === children.length ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  return children;
}

/** Enqueues `count` jobs and waits until none is left; returns seconds. */
async function drain(
  client: PeerClient,
  count: number,
  timeoutMs: number,
): Promise<number> {
  const started = performance.now();
  await client.enqueue(count);
  await waitFor(
    `${count} jobs to complete`,
    async () => ((await client.remaining()) === 0 ? true : undefined),
    { timeoutMs, intervalMs: POLL_MS },
  );
  return (performance.now() - started) / 1000;
}

function peerMetrics(
  count: number,
  ours: number[],
  outcomes: PeerOutcome[],
): Metric[] {
  const metrics: Metric[] = [
    metric({
      name: `Deer Flow, N=${count}`,
      unit: "tasks/s",
      better: "higher",
      samples: ours,
      target: { op: ">=", value: 5000, text: "at least 5,000 tasks/s" },
    }),
  ];
  for (const o of outcomes) {
    metrics.push(
      metric({
        name: `${o.system}: ${o.label}`,
        unit: "tasks/s",
        better: "higher",
        samples: o.tasksPerSecond,
        note: o.error ? `not measured: ${o.error}` : undefined,
      }),
    );
  }
  for (const system of new Set(outcomes.map((o) => o.system))) {
    const best = bestOf(outcomes.filter((o) => o.system === system));
    const pairs = Math.min(ours.length, best?.tasksPerSecond.length ?? 0);
    metrics.push(
      metric({
        name: `Deer Flow ÷ ${system} (its best configuration)`,
        unit: "× (ratio)",
        better: "higher",
        samples: Array.from(
          { length: pairs },
          (_, i) => (ours[i] as number) / (best?.tasksPerSecond[i] as number),
        ),
        target: { op: ">=", value: 1, text: "ahead of every peer (≥ 1)" },
        note: pairs === 0 ? "not measured" : undefined,
      }),
    );
  }
  return metrics;
}

/** The configuration with the highest median rate. */
function bestOf(outcomes: PeerOutcome[]): PeerOutcome | undefined {
  const median = (v: number[]) =>
    v.length === 0
      ? -1
      : ([...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number);
  return [...outcomes].sort(
    (a, b) => median(b.tasksPerSecond) - median(a.tasksPerSecond),
  )[0];
}
