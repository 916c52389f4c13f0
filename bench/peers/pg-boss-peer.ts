import PgBoss from "pg-boss";
import postgres from "postgres";
import { packageVersion } from "./package-version.js";
import type { PeerSystem, PeerTarget } from "./peer-system.js";

/** pg-boss allows no faster polling than this. */
const POLLING_INTERVAL_S = 0.5;

function url(target: PeerTarget): string {
  if (!target.databaseUrl) throw new Error("pg-boss: databaseUrl is required");
  return target.databaseUrl;
}

function boss(target: PeerTarget, migrate: boolean): PgBoss {
  return new PgBoss({
    connectionString: url(target),
    // No cron, no maintenance: only the queue is measured.
    schedule: false,
    supervise: false,
    migrate,
  });
}

/**
 * pg-boss 10: jobs in PostgreSQL, fetched by polling (0.5 s at the
 * fastest) in batches, and kept with state `completed`. Enqueued with one
 * `insert` call.
 */
export const pgBossPeer: PeerSystem = {
  name: "pg-boss",
  async connect(target) {
    const client = boss(target, true);
    client.on("error", () => {});
    await client.start();
    await client.createQueue(target.queue);
    const sql = postgres(url(target), { max: 1, onnotice: () => {} });
    return {
      versions: { "pg-boss": packageVersion("pg-boss") },
      async enqueue(count) {
        await client.insert(
          Array.from({ length: count }, () => ({
            name: target.queue,
            data: {},
          })),
        );
      },
      async remaining() {
        const [row] = await sql<{ n: string }[]>`
          SELECT count(*) AS n FROM pgboss.job
          WHERE name = ${target.queue}
            AND state IN ('created', 'retry', 'active')`;
        return Number(row?.n ?? 0);
      },
      async close() {
        await sql.end();
        await client.stop({ graceful: false, wait: true });
      },
    };
  },
  async startWorkers(target, config, onJobs) {
    const client = boss(target, false);
    client.on("error", () => {});
    await client.start();
    for (let i = 0; i < config.workersPerProcess; i += 1) {
      await client.work(
        target.queue,
        {
          batchSize: config.batchSize,
          pollingIntervalSeconds: POLLING_INTERVAL_S,
        },
        async (jobs) => {
          onJobs(jobs.length);
        },
      );
    }
    return {
      stop: () => client.stop({ graceful: false, wait: true }),
    };
  },
};
