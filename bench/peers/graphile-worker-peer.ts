import { Logger, run, runMigrations } from "graphile-worker";
import postgres from "postgres";
import { packageVersion } from "./package-version.js";
import type { PeerSystem, PeerTarget } from "./peer-system.js";

/** Drops graphile-worker's log lines: the benchmark keeps its own. */
const quiet = new Logger(() => () => {});

function url(target: PeerTarget): string {
  if (!target.databaseUrl)
    throw new Error("graphile-worker: databaseUrl is required");
  return target.databaseUrl;
}

/**
 * graphile-worker 0.16: jobs in PostgreSQL, LISTEN/NOTIFY wakeups,
 * completed jobs deleted. Enqueued with one `add_jobs` call; a job that
 * is gone is done.
 */
export const graphileWorkerPeer: PeerSystem = {
  name: "graphile-worker",
  async connect(target) {
    const connectionString = url(target);
    await runMigrations({ connectionString, logger: quiet });
    const sql = postgres(connectionString, { max: 1, onnotice: () => {} });
    return {
      versions: { "graphile-worker": packageVersion("graphile-worker") },
      async enqueue(count) {
        await sql`
          SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(
            SELECT ROW(${target.queue}, '{}'::json, NULL, NULL, NULL, NULL,
                       NULL, NULL)::graphile_worker.job_spec
            FROM generate_series(1, ${count}::int)))`;
      },
      async remaining() {
        const [row] = await sql<{ n: string }[]>`
          SELECT count(*) AS n FROM graphile_worker._private_jobs`;
        return Number(row?.n ?? 0);
      },
      async close() {
        await sql.end();
      },
    };
  },
  async startWorkers(target, config, onJobs) {
    const runner = await run({
      connectionString: url(target),
      concurrency: config.concurrency,
      // A connection per job slot and two more, as graphile-worker
      // advises, but no more than the server has for this process: at
      // 4 × 256 the server's 100 would be gone. A no-op job holds no
      // connection while it runs, so concurrency is not capped by it.
      maxPoolSize: Math.min(
        config.concurrency + 2,
        target.connectionsPerProcess ?? Number.POSITIVE_INFINITY,
      ),
      noHandleSignals: true,
      logger: quiet,
      taskList: {
        [target.queue]: async () => {
          onJobs(1);
        },
      },
    });
    return { stop: () => runner.stop() };
  },
};
