import { connect } from "node:net";

/** What the benchmark reports of the Redis server BullMQ ran on. */
export interface RedisServerFacts {
  version: string;
  /** What the server keeps on disk, in words. */
  durability: string;
}

type Reply = string | null | Error | Reply[];

/**
 * Asks a Redis server for its version and persistence settings over a
 * plain socket (the benchmark carries no Redis client of its own): INFO
 * and three CONFIG GETs in one write. "unknown" for whatever it cannot
 * tell within 5 s.
 */
export function redisServerFacts(server: {
  host: string;
  port: number;
}): Promise<RedisServerFacts> {
  const commands = [
    ["INFO", "server"],
    ["CONFIG", "GET", "appendonly"],
    ["CONFIG", "GET", "appendfsync"],
    ["CONFIG", "GET", "save"],
  ];
  return new Promise((resolve) => {
    const socket = connect(server.port, server.host);
    let received = Buffer.alloc(0);
    const done = (replies: Reply[] | undefined) => {
      socket.destroy();
      resolve(factsOf(replies));
    };
    socket.setTimeout(5000, () => done(undefined));
    socket.on("error", () => done(undefined));
    socket.on("connect", () => socket.write(commands.map(encode).join("")));
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      const replies = parseReplies(received, commands.length);
      if (replies !== undefined) done(replies);
    });
  });
}

function factsOf(replies: Reply[] | undefined): RedisServerFacts {
  const [info, appendonly, appendfsync, save] = replies ?? [];
  const version =
    typeof info === "string"
      ? (/redis_version:(\S+)/.exec(info)?.[1] ?? "unknown")
      : "unknown";
  const setting = (reply: Reply | undefined) =>
    Array.isArray(reply) && typeof reply[1] === "string" ? reply[1] : undefined;
  const aof = setting(appendonly);
  const snapshots = setting(save);
  if (aof === undefined || snapshots === undefined) {
    return { version, durability: "Redis: persistence unknown" };
  }
  const file =
    aof === "yes"
      ? `append-only file with fsync ${setting(appendfsync) ?? "unknown"}`
      : "no append-only file";
  const schedule =
    snapshots === "" ? "no snapshots" : `snapshots "${snapshots}"`;
  const nothing = aof !== "yes" && snapshots === "";
  return {
    version,
    durability: `Redis: ${file}, ${schedule}${nothing ? " (nothing is kept on disk)" : ""}`,
  };
}

function encode(args: string[]): string {
  const parts = args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`);
  return `*${args.length}\r\n${parts.join("")}`;
}

/** `count` whole replies from the start of `data`, or undefined if not yet. */
function parseReplies(data: Buffer, count: number): Reply[] | undefined {
  const replies: Reply[] = [];
  let at = 0;
  while (replies.length < count) {
    const parsed = parseReply(data, at);
    if (parsed === undefined) return undefined;
    replies.push(parsed.reply);
    at = parsed.next;
  }
  return replies;
}

function parseReply(
  data: Buffer,
  at: number,
): { reply: Reply; next: number } | undefined {
  const end = data.indexOf("\r\n", at);
  if (end < 0) return undefined;
  const line = data.toString("latin1", at + 1, end);
  const next = end + 2;
  switch (String.fromCharCode(data[at] ?? 0)) {
    case "+":
    case ":":
      return { reply: line, next };
    case "-":
      return { reply: new Error(line), next };
    case "$": {
      const length = Number(line);
      if (length < 0) return { reply: null, next };
      if (data.length < next + length + 2) return undefined;
      return {
        reply: data.toString("utf8", next, next + length),
        next: next + length + 2,
      };
    }
    case "*": {
      const items: Reply[] = [];
      let cursor = next;
      for (let i = 0; i < Number(line); i += 1) {
        const item = parseReply(data, cursor);
        if (item === undefined) return undefined;
        items.push(item.reply);
        cursor = item.next;
      }
      return { reply: items, next: cursor };
    }
    default:
      return { reply: new Error(`unexpected reply: ${line}`), next };
  }
}
