import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NonRetryableError,
  pluginSdk,
  TaskAbort,
} from "../../plugin-sdk/index.js";
import { runPlugin } from "../../plugin-sdk/testing.js";
import type { HttpConfig } from "./http-config.js";
import { httpPlugin } from "./http-plugin.js";

const http = httpPlugin(pluginSdk);

type Route = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** Requests that never get an answer, with a callback for each arrival. */
const hanging = new Set<ServerResponse>();
let onHang: (() => void) | undefined;

const routes: Record<string, Route> = {
  "/json": (_req, res) => {
    res.setHeader("content-type", "application/json; charset=utf-8");
    res.setHeader("X-Custom", "yes");
    res.end(JSON.stringify({ hello: "world", n: [1, 2] }));
  },
  "/text": (_req, res) => {
    res.setHeader("content-type", "text/plain");
    res.end("plain text");
  },
  "/echo": (req, res, body) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ method: req.method, headers: req.headers, body }));
  },
  "/500": (_req, res) => {
    res.statusCode = 500;
    res.setHeader("content-type", "application/json");
    res.end('{"error":"boom"}');
  },
  "/503": (_req, res) => {
    res.writeHead(503, { "retry-after": "7" }).end("busy");
  },
  "/429": (_req, res) => {
    res.writeHead(429, { "retry-after": "2" }).end();
  },
  "/429-date": (_req, res) => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    res.writeHead(429, { "retry-after": at }).end();
  },
  "/404": (_req, res) => {
    res.writeHead(404).end("nope");
  },
  "/redirect": (_req, res) => {
    res.writeHead(302, { location: "/text" }).end();
  },
  "/big": (_req, res) => {
    res.setHeader("content-type", "text/plain");
    const chunk = "x".repeat(64 * 1024);
    for (let i = 0; i < 20; i++) res.write(chunk);
    res.end();
  },
  "/bad-json": (_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end("{not json");
  },
  "/hang": (_req, res) => {
    hanging.add(res);
    onHang?.();
  },
};

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const route = routes[new URL(req.url ?? "/", "http://x").pathname];
      if (route) route(req, res, Buffer.concat(chunks).toString());
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function run(config: Omit<HttpConfig, "url"> & { path: string }) {
  const { path, ...rest } = config;
  return runPlugin(http, { config: { ...rest, url: base + path } });
}

describe("http plugin", () => {
  it("records status, lowercase headers and a JSON body", async () => {
    const result = await run({ path: "/json" });
    expect(result.outcome).toBe("success");
    expect(result.output.status).toBe(200);
    expect(result.output.headers).toMatchObject({ "x-custom": "yes" });
    expect(result.output.body).toEqual({ hello: "world", n: [1, 2] });
    expect(result.metrics[0]?.name).toBe("http_request_duration_ms");
  });

  it("keeps a non-JSON body as text", async () => {
    const result = await run({ path: "/text" });
    expect(result.output.body).toBe("plain text");
  });

  it("sends method, headers and a JSON body", async () => {
    const result = await run({
      path: "/echo",
      method: "POST",
      headers: { "X-Token": "abc" },
      body: { a: [1, true] },
    });
    const echoed = result.output.body as {
      method: string;
      headers: Record<string, string>;
      body: string;
    };
    expect(echoed.method).toBe("POST");
    expect(echoed.headers["x-token"]).toBe("abc");
    expect(echoed.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(echoed.body)).toEqual({ a: [1, true] });
  });

  it("sends a string body as-is", async () => {
    const result = await run({ path: "/echo", method: "PUT", body: "raw" });
    expect((result.output.body as { body: string }).body).toBe("raw");
  });

  it("refuses a body with GET", async () => {
    const result = await run({ path: "/echo", body: "x" });
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toBe("config.body: not allowed with GET");
  });

  it("maps 5xx to retry class 5xx and keeps the body", async () => {
    const result = await run({ path: "/500" });
    expect(result.outcome).toBe("failed");
    expect(result.error?.retryClass).toBe("5xx");
    expect(result.error?.retryable).toBe(true);
    expect(result.output).toMatchObject({
      status: 500,
      body: { error: "boom" },
    });
    const busy = await run({ path: "/503" });
    expect(busy.error?.retryAfterMs).toBe(7_000);
  });

  it("maps 429 to retry class 429 with Retry-After seconds", async () => {
    const result = await run({ path: "/429" });
    expect(result.error?.retryClass).toBe("429");
    expect(result.error?.retryAfterMs).toBe(2_000);
  });

  it("reads a Retry-After HTTP date", async () => {
    const result = await run({ path: "/429-date" });
    const wait = result.error?.retryAfterMs ?? -1;
    // The header has whole seconds, one minute ahead.
    expect(wait).toBeGreaterThan(50_000);
    expect(wait).toBeLessThanOrEqual(60_000);
  });

  it("fails a 4xx without retries", async () => {
    const result = await run({ path: "/404" });
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toMatch(/status 404 Not Found/);
  });

  it("accepts the statuses in expected_status", async () => {
    const result = await run({ path: "/404", expected_status: [404] });
    expect(result.outcome).toBe("success");
    expect(result.output.body).toBe("nope");
  });

  it("follows redirects unless told not to", async () => {
    const followed = await run({ path: "/redirect" });
    expect(followed.output.body).toBe("plain text");
    const kept = await run({
      path: "/redirect",
      follow_redirects: false,
      expected_status: [302],
    });
    expect(kept.output.status).toBe(302);
    expect(kept.output.headers).toMatchObject({ location: "/text" });
  });

  it("fails a body over max_response_bytes, naming it", async () => {
    const result = await run({ path: "/big", max_response_bytes: 1_048_576 });
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toBe(
      "response body is larger than max_response_bytes (1048576 bytes)",
    );
    expect(result.output.status).toBe(200);
    const roomy = await run({ path: "/big" });
    expect(roomy.outcome).toBe("success");
    expect((roomy.output.body as string).length).toBe(20 * 64 * 1024);
  });

  it("fails a JSON content-type with a body that is not JSON", async () => {
    const result = await run({ path: "/bad-json" });
    expect(result.outcome).toBe("failed");
    expect(result.error?.message).toMatch(/not valid JSON/);
  });

  it("times out by its own timeout with retry class timeout", async () => {
    const result = await run({ path: "/hang", timeout: 0.2 });
    expect(result.outcome).toBe("failed");
    expect(result.error?.retryClass).toBe("timeout");
    expect(result.error?.message).toBe("request timed out after 0.2s");
  });

  it("stops when the attempt's signal aborts", async () => {
    const controller = new AbortController();
    onHang = () => controller.abort(new TaskAbort("timeout"));
    const result = await runPlugin(http, {
      config: { url: `${base}/hang` },
      signal: controller.signal,
    });
    onHang = undefined;
    expect(result.outcome).toBe("timed_out");
    expect(result.error?.retryClass).toBe("timeout");
  });

  it("fails a refused connection as retryable", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) =>
      closed.listen(0, "127.0.0.1", resolve),
    );
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await runPlugin(http, {
      config: { url: `http://127.0.0.1:${port}/` },
    });
    expect(result.error?.retryable).toBe(true);
    expect(result.error?.message).toBe("request failed: ECONNREFUSED");
  });
});
