import { Redis } from "ioredis";

/** What the benchmark reports of the Redis server BullMQ ran on. */
export interface RedisServerFacts {
  version: string;
  /** What the server keeps on disk, in words. */
  durability: string;
}

/**
 * Asks a Redis server, through ioredis (BullMQ's own client), for its
 * version and persistence settings: INFO, and CONFIG GET of appendonly,
 * appendfsync and save. "unknown" for whatever it cannot tell within 5 s
 * or will not say (managed services often refuse CONFIG).
 */
export async function redisServerFacts(server: {
  host: string;
  port: number;
}): Promise<RedisServerFacts> {
  const redis = new Redis({
    ...server,
    lazyConnect: true,
    enableReadyCheck: false,
    connectTimeout: 5_000,
    commandTimeout: 5_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    const info = await redis.info("server");
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
    return { version, durability: await durabilityOf(redis) };
  } catch {
    return { version: "unknown", durability: "Redis: persistence unknown" };
  } finally {
    redis.disconnect();
  }
}

async function durabilityOf(redis: Redis): Promise<string> {
  const setting = async (name: string) =>
    ((await redis.config("GET", name)) as string[])[1] ?? "";
  let settings: string[];
  try {
    settings = await Promise.all(
      ["appendonly", "appendfsync", "save"].map(setting),
    );
  } catch {
    return "Redis: persistence unknown";
  }
  const [aof, fsync, save] = settings;
  const file =
    aof === "yes"
      ? `append-only file with fsync ${fsync}`
      : "no append-only file";
  const schedule = save === "" ? "no snapshots" : `snapshots "${save}"`;
  const nothing = aof !== "yes" && save === "";
  return `Redis: ${file}, ${schedule}${nothing ? " (nothing is kept on disk)" : ""}`;
}
