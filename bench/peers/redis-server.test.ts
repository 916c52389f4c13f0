import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { redisServerFacts } from "./redis-server.js";

/**
 * A loopback stand-in for a Redis server whose CONFIG command is renamed
 * away, as managed Redis services do: INFO answers, CONFIG is an error.
 */
function configlessRedis(): Promise<Server> {
  const server = createServer((socket) => {
    socket.on("data", (chunk) => {
      // Each command's name is its first bulk string: *N, $len, name.
      for (const [, name] of chunk
        .toString("latin1")
        .matchAll(/\*\d+\r\n\$\d+\r\n(\w+)\r\n/g)) {
        if (name?.toUpperCase() === "INFO") {
          const info = "# Server\r\nredis_version:7.2.4\r\n";
          socket.write(`$${info.length}\r\n${info}\r\n`);
        } else {
          socket.write(`-ERR unknown command '${name}'\r\n`);
        }
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve(server)),
  );
}

describe("the Redis server's facts for the peers table", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("reads the version and what is kept on disk from the local Redis", async () => {
    const facts = await redisServerFacts({ host: "127.0.0.1", port: 6379 });
    expect(facts.version).toMatch(/^\d+\.\d+/);
    expect(facts.durability).toMatch(
      /^Redis: (no append-only file|append-only file with fsync \w+), (no snapshots|snapshots ".+")/,
    );
  });

  it("says unknown where CONFIG is refused, and keeps the version", async () => {
    const server = await configlessRedis();
    servers.push(server);
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error();
    const facts = await redisServerFacts({
      host: "127.0.0.1",
      port: address.port,
    });
    expect(facts).toEqual({
      version: "7.2.4",
      durability: "Redis: persistence unknown",
    });
  });
});
