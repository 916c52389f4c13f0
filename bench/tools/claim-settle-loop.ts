/**
 * The dispatch path's database work without agents or gRPC: a run of N
 * no-op tasks is started, then claimed 256 at a time for four agents in
 * turn and settled as an agent's session settles them (acknowledgement
 * and success in one batch), one claim or settle at a time.
 *
 * Per task it reports the CPU time of the database's backends (read from
 * /proc, so the server must run on this machine) and of this process,
 * and, where the server has pg_stat_statements, the WAL records and bytes
 * written and the buffers read: counts the machine's noise does not move,
 * unlike times. Each round uses a database of its own, dropped after.
 *
 *   npx tsx bench/tools/claim-settle-loop.ts [--tasks 20000] [--rounds 3]
 *     [--database-url postgres://postgres@127.0.0.1:5432/postgres]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { type Db, openDatabase } from "../../control-plane/db/index.js";
import { claimTasks } from "../../control-plane/dispatch/claim-tasks.js";
import { settleLeases } from "../../control-plane/leases/settle-leases.js";
import { startRun } from "../../control-plane/scheduler/start-run.js";
import { silentLogger } from "../../core/index.js";

/** What one round cost, per task. */
export interface LoopCost {
  tasks: number;
  startMs: number;
  loopMs: number;
  /** CPU of the database's backends, in µs a task. */
  databaseCpuUs: number;
  /** CPU of this process (building statements, reading answers). */
  clientCpuUs: number;
  /** From pg_stat_statements, when the server has it. */
  statements?: { walRecords: number; walBytes: number; buffers: number };
}

const BATCH = 256;
const AGENTS = 4;

/** Runs one round on a fresh database under `serverUrl`'s server. */
export async function claimSettleRound(
  serverUrl: string,
  tasks: number,
): Promise<LoopCost> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  const name = `deerflow_bench_loop_${process.pid}_${Date.now()}`;
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  // Ctrl-C mid-round, however often, leaves no database behind: the
  // first drops it (whether or not it was made yet), the rest wait.
  let dropping = false;
  const dropAndExit = () => {
    if (dropping) return;
    dropping = true;
    admin
      .unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      .finally(() => process.exit(130));
  };
  process.on("SIGINT", dropAndExit);
  await admin.unsafe(`CREATE DATABASE ${name}`);
  try {
    const database = await openDatabase({
      url: url.toString(),
      logger: silentLogger(),
    });
    try {
      return await measure(admin, name, database.db, tasks);
    } finally {
      await database.close();
    }
  } finally {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    process.off("SIGINT", dropAndExit);
  }
}

async function measure(
  admin: postgres.Sql,
  name: string,
  db: Db,
  tasks: number,
): Promise<LoopCost> {
  const definition = {
    name: "claim-settle-loop",
    params: {},
    tasks: Array.from({ length: tasks }, (_, i) => ({
      id: `t${i}`,
      type: "noop",
      depends_on: [],
      config: {},
      node_selector: {},
      priority: 0,
    })),
  };
  const started = performance.now();
  await startRun(
    db,
    { definition, params: {}, workflowVersion: 0 },
    new Date(),
  );
  const looping = performance.now();
  const backends = async () =>
    (
      await admin<{ pid: number }[]>`
        SELECT pid FROM pg_stat_activity WHERE datname = ${name}`
    ).map((row) => row.pid);
  const before = new Map((await backends()).map((pid) => [pid, cpuTicks(pid)]));
  const statsFrom = await statementTotals(admin, name);
  const client = process.cpuUsage();
  let done = 0;
  for (let turn = 0; done < tasks; turn++) {
    const agentId = `agent-${turn % AGENTS}`;
    const now = new Date();
    const { assignments } = await db.transaction((tx) =>
      claimTasks(
        tx,
        { agentId, taskTypes: ["noop"], labels: {} },
        { limit: BATCH, leaseTtlMs: 30_000, ackDeadlineMs: 10_000, now },
      ),
    );
    if (assignments.length === 0) {
      throw new Error(`the queue ran dry after ${done} of ${tasks} tasks`);
    }
    const refs = assignments.map((a) => ({
      leaseId: a.leaseId,
      fencingToken: a.fencingToken,
    }));
    await settleLeases(
      db,
      agentId,
      {
        acknowledgements: refs,
        results: refs.map((ref) => ({
          ...ref,
          outcome: "SUCCESS" as const,
          error: "",
          retryable: true,
          retryClass: "",
          output: {},
        })),
      },
      new Date(),
    );
    done += assignments.length;
  }
  const clientUs = process.cpuUsage(client);
  const ended = performance.now();
  let ticks = 0;
  for (const pid of new Set([...before.keys(), ...(await backends())])) {
    ticks += cpuTicks(pid) - (before.get(pid) ?? 0);
  }
  const statsTo = await statementTotals(admin, name);
  const per = (n: number) => n / tasks;
  return {
    tasks,
    startMs: looping - started,
    loopMs: ended - looping,
    databaseCpuUs: per(ticks * (1e6 / CLOCK_TICKS_PER_S)),
    clientCpuUs: per(clientUs.user + clientUs.system),
    statements:
      statsFrom && statsTo
        ? {
            walRecords: per(statsTo.walRecords - statsFrom.walRecords),
            walBytes: per(statsTo.walBytes - statsFrom.walBytes),
            buffers: per(statsTo.buffers - statsFrom.buffers),
          }
        : undefined,
  };
}

/** USER_HZ, which Linux fixes at 100 for /proc. */
const CLOCK_TICKS_PER_S = 100;

/** A process's user and system CPU in clock ticks; 0 once it is gone. */
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** The database's statement totals, or undefined without the extension. */
async function statementTotals(admin: postgres.Sql, name: string) {
  try {
    const [row] = await admin<
      { rec: number; bytes: number; buffers: number }[]
    >`
      SELECT coalesce(sum(wal_records), 0)::float8 AS rec,
        coalesce(sum(wal_bytes), 0)::float8 AS bytes,
        coalesce(sum(shared_blks_hit + shared_blks_read), 0)::float8 AS buffers
      FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = ${name}`;
    return row
      ? { walRecords: row.rec, walBytes: row.bytes, buffers: row.buffers }
      : undefined;
  } catch {
    return undefined;
  }
}

/** One line a round, for a person. */
export function describeCost(cost: LoopCost): string {
  const rate = cost.tasks / (cost.loopMs / 1000);
  const parts = [
    `${cost.tasks} tasks: StartRun ${cost.startMs.toFixed(0)} ms,`,
    `loop ${cost.loopMs.toFixed(0)} ms (${rate.toFixed(0)} tasks/s);`,
    `database CPU ${cost.databaseCpuUs.toFixed(1)} µs a task,`,
    `this process ${cost.clientCpuUs.toFixed(1)} µs`,
  ];
  const s = cost.statements;
  if (s) {
    parts.push(
      `(WAL ${s.walRecords.toFixed(2)} records, ${s.walBytes.toFixed(0)} bytes,`,
      `${s.buffers.toFixed(1)} buffers a task)`,
    );
  }
  return parts.join(" ");
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      tasks: { type: "string", default: "20000" },
      rounds: { type: "string", default: "3" },
      "database-url": {
        type: "string",
        default: "postgres://postgres@127.0.0.1:5432/postgres",
      },
    },
  });
  const tasks = Number(values.tasks);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(tasks) || tasks < 1) {
    throw new Error(`--tasks: a whole number above 0, not ${values.tasks}`);
  }
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`--rounds: a whole number above 0, not ${values.rounds}`);
  }
  for (let round = 1; round <= rounds; round++) {
    const cost = await claimSettleRound(values["database-url"], tasks);
    console.log(`round ${round}: ${describeCost(cost)}`);
  }
}

if (process.argv[1]?.endsWith("claim-settle-loop.ts")) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error((error as Error).message);
    process.exitCode = 1;
  });
}
