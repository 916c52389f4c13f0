import { connect } from "node:net";

/**
 * Asks a Redis server for its version with one INFO command over a plain
 * socket (the benchmark carries no Redis client of its own); "unknown"
 * when it cannot tell within 5 s.
 */
export function redisServerVersion(server: {
  host: string;
  port: number;
}): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(server.port, server.host);
    let reply = "";
    const done = (version: string) => {
      socket.destroy();
      resolve(version);
    };
    socket.setTimeout(5000, () => done("unknown"));
    socket.on("error", () => done("unknown"));
    socket.on("connect", () =>
      socket.write("*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n"),
    );
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      const version = /redis_version:(\S+)/.exec(reply)?.[1];
      if (version) done(version);
    });
  });
}
