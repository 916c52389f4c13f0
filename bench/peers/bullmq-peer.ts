import { Queue, Worker } from "bullmq";
import { packageVersion } from "./package-version.js";
import type { PeerSystem, PeerTarget } from "./peer-system.js";
import { redisServerFacts } from "./redis-server.js";

/** Keys of the benchmark's queues start with this, apart from anything else. */
const PREFIX = "deerflow-bench";
/** Jobs per addBulk call (one round trip each). */
const BULK = 1000;

function connection(target: PeerTarget) {
  if (!target.redis) throw new Error("bullmq: redis is required");
  return {
    host: target.redis.host,
    port: target.redis.port,
    maxRetriesPerRequest: null,
  };
}

/**
 * BullMQ 6 talks to Redis through an optional peer package (ioredis or
 * node-redis) that it does not install itself. Without one it logs a
 * stack and fails inside its constructor; say so plainly instead.
 */
function requireRedisClient(): void {
  for (const name of ["ioredis", "redis"]) {
    try {
      import.meta.resolve(name);
      return;
    } catch {
      // Try the next client.
    }
  }
  throw new Error(
    "bullmq 6 needs a Redis client package (ioredis >= 5 or redis >= 5) " +
      "and neither is installed; add ioredis to devDependencies to measure BullMQ",
  );
}

/**
 * BullMQ 6 on the local Redis: jobs in Redis lists and hashes, removed on
 * completion (its fastest setting). Enqueued with addBulk in chunks.
 */
export const bullmqPeer: PeerSystem = {
  name: "bullmq",
  async connect(target) {
    requireRedisClient();
    const queue = new Queue(target.queue, {
      connection: connection(target),
      prefix: PREFIX,
    });
    await queue.waitUntilReady();
    const redis = await redisServerFacts(connection(target));
    return {
      versions: { bullmq: packageVersion("bullmq"), redis: redis.version },
      durability: redis.durability,
      async enqueue(count) {
        for (let done = 0; done < count; done += BULK) {
          const n = Math.min(BULK, count - done);
          await queue.addBulk(
            Array.from({ length: n }, () => ({
              name: "noop",
              data: {},
              opts: { removeOnComplete: true, removeOnFail: true },
            })),
          );
        }
      },
      async remaining() {
        const counts = await queue.getJobCounts(
          "waiting",
          "active",
          "delayed",
          "prioritized",
        );
        return Object.values(counts).reduce((a, b) => a + b, 0);
      },
      async close() {
        await queue.obliterate({ force: true });
        await queue.close();
      },
    };
  },
  async startWorkers(target, config, onJobs) {
    requireRedisClient();
    const worker = new Worker(
      target.queue,
      async () => {
        onJobs(1);
      },
      {
        connection: connection(target),
        prefix: PREFIX,
        concurrency: config.concurrency,
      },
    );
    worker.on("error", () => {});
    await worker.waitUntilReady();
    return { stop: () => worker.close() };
  },
};
