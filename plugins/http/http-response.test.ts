import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NonRetryableError, pluginSdk } from "../../plugin-sdk/index.js";
import { runPlugin } from "../../plugin-sdk/testing.js";
import type { HttpConfig } from "./http-config.js";
import { httpPlugin } from "./http-plugin.js";
import { type LoopbackServer, startLoopbackServer } from "./loopback-server.js";

const http = httpPlugin(pluginSdk);
let server: LoopbackServer;
let other: LoopbackServer;

const JSON_BODY = JSON.stringify({ compressed: true });
const ENCODERS: Record<string, (data: string) => Buffer> = {
  gzip: (data) => gzipSync(data),
  deflate: (data) => deflateSync(data),
  br: (data) => brotliCompressSync(data),
};

beforeAll(async () => {
  other = await startLoopbackServer({
    "/echo": (req, res, body) => {
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({ method: req.method, headers: req.headers, body }),
      );
    },
  });
  server = await startLoopbackServer({
    "/encoded": (req, res) => {
      const encoding = new URL(req.url ?? "", "http://x").searchParams.get("e");
      const encode = ENCODERS[encoding ?? ""];
      if (!encode || !encoding) return res.writeHead(400).end();
      res.writeHead(200, {
        "content-type": "application/json",
        "content-encoding": encoding,
      });
      res.end(encode(JSON_BODY));
    },
    "/bomb": (_req, res) => {
      res.writeHead(200, { "content-encoding": "gzip" });
      res.end(gzipSync(Buffer.alloc(4 * 1024 * 1024)));
    },
    "/see-other": (_req, res) => {
      res.writeHead(303, { location: `${other.base}/echo` }).end();
    },
    "/temporary": (_req, res) => {
      res.writeHead(307, { location: `${other.base}/echo` }).end();
    },
    "/loop": (_req, res) => {
      res.writeHead(302, { location: "/loop" }).end();
    },
    "/to-ftp": (_req, res) => {
      res.writeHead(302, { location: "ftp://127.0.0.1/file" }).end();
    },
  });
});

afterAll(async () => {
  await Promise.all([server.close(), other.close()]);
});

function run(config: Omit<HttpConfig, "url"> & { path: string }) {
  const { path, ...rest } = config;
  return runPlugin(http, { config: { ...rest, url: server.base + path } });
}

describe("http plugin responses", () => {
  it("decompresses gzip, deflate and br bodies before parsing", async () => {
    for (const encoding of Object.keys(ENCODERS)) {
      const result = await run({ path: `/encoded?e=${encoding}` });
      expect(result.output.body, encoding).toEqual({ compressed: true });
    }
  });

  it("caps the decompressed size, so a small bomb cannot blow up", async () => {
    const result = await run({ path: "/bomb", max_response_bytes: 65_536 });
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toBe(
      "response body is larger than max_response_bytes (65536 bytes)",
    );
  });

  it("turns a POST into a GET after a 303, dropping body and credentials across origins", async () => {
    const result = await run({
      path: "/see-other",
      method: "POST",
      headers: { Authorization: "Bearer secret", "X-Trace": "1" },
      body: { a: 1 },
    });
    expect(result.outcome).toBe("success");
    const echoed = result.output.body as {
      method: string;
      headers: Record<string, string>;
      body: string;
    };
    expect(echoed.method).toBe("GET");
    expect(echoed.body).toBe("");
    expect(echoed.headers.authorization).toBeUndefined();
    expect(echoed.headers["content-type"]).toBeUndefined();
    expect(echoed.headers["x-trace"]).toBe("1");
  });

  it("keeps method and body through a 307", async () => {
    const result = await run({
      path: "/temporary",
      method: "PUT",
      body: "raw",
    });
    const echoed = result.output.body as { method: string; body: string };
    expect(echoed).toMatchObject({ method: "PUT", body: "raw" });
  });

  it("fails redirect loops and non-http redirects without retries", async () => {
    const loop = await run({ path: "/loop" });
    expect(loop.error).toBeInstanceOf(NonRetryableError);
    expect(loop.error?.message).toBe("more than 20 redirects");
    const ftp = await run({ path: "/to-ftp" });
    expect(ftp.error?.message).toBe("redirect to a ftp: URL");
  });

  it("logs each response without its path or query", async () => {
    const result = await run({ path: "/encoded?e=gzip&token=secret" });
    const line = result.lines.find((l) => l.message === "http response");
    expect(line?.fields).toMatchObject({
      method: "GET",
      origin: server.base,
      status: 200,
    });
    expect(JSON.stringify(result.lines)).not.toContain("secret");
  });
});

describe("http plugin rendered config", () => {
  it("names a number that a template rendered out of bounds", async () => {
    const cases: [Partial<HttpConfig>, RegExp][] = [
      [{ max_response_bytes: 0 }, /^config\.max_response_bytes: must be/],
      [{ retries: 1.5 }, /^config\.retries: must be a whole number/],
      [{ timeout: -1 }, /^config\.timeout: must be a number of seconds/],
      [{ method: "FETCH" as "GET" }, /^config\.method: unknown method/],
    ];
    for (const [patch, message] of cases) {
      const result = await run({ path: "/encoded?e=gzip", ...patch });
      expect(result.error).toBeInstanceOf(NonRetryableError);
      expect(result.error?.message).toMatch(message);
    }
  });
});
