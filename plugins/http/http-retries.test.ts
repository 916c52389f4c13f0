import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { pluginSdk } from "../../plugin-sdk/index.js";
import { runPlugin } from "../../plugin-sdk/testing.js";
import type { HttpConfig } from "./http-config.js";
import { createHttpPlugin } from "./http-plugin.js";
import {
  type LoopbackServer,
  type Route,
  startLoopbackServer,
} from "./loopback-server.js";

/** Answers, in turn, for each path; the last answer repeats. */
type Answer = { status: number; headers?: Record<string, string> } | "hang";
let script: Record<string, Answer[]> = {};
const seen: Record<string, number> = {};

let server: LoopbackServer;

beforeAll(async () => {
  const answer =
    (path: string): Route =>
    (_req, res) => {
      const answers = script[path] ?? [];
      const index = Math.min(seen[path] ?? 0, answers.length - 1);
      seen[path] = (seen[path] ?? 0) + 1;
      const next = answers[index];
      if (next === undefined || next === "hang") return;
      res.writeHead(next.status, next.headers).end(`try ${seen[path]}`);
    };
  server = await startLoopbackServer({
    "/flaky": answer("/flaky"),
    "/slow-once": answer("/slow-once"),
  });
});

afterAll(() => server.close());

beforeEach(() => {
  script = {};
  for (const key of Object.keys(seen)) delete seen[key];
});

/** Runs with an injected sleep that records each wait and returns. */
async function run(config: Omit<HttpConfig, "url"> & { path: string }) {
  const waits: number[] = [];
  const plugin = createHttpPlugin({
    sleep: async (ms) => {
      waits.push(ms);
    },
  })(pluginSdk);
  const { path, ...rest } = config;
  const result = await runPlugin(plugin, {
    config: { ...rest, url: server.base + path },
  });
  return { result, waits };
}

describe("http plugin retries within the attempt", () => {
  it("retries 5xx and 429, waiting as Retry-After asks, else backing off", async () => {
    script["/flaky"] = [
      { status: 503 },
      { status: 429, headers: { "retry-after": "7" } },
      { status: 502 },
      { status: 200 },
    ];
    const { result, waits } = await run({ path: "/flaky", retries: 3 });
    expect(result.outcome).toBe("success");
    expect(result.output.body).toBe("try 4");
    expect(waits).toEqual([1_000, 7_000, 4_000]);
    const warnings = result.lines.filter((l) => l.level === "warn");
    expect(warnings.map((l) => l.fields?.retry)).toEqual([1, 2, 3]);
  });

  it("ends with the last failure once the retries are used up", async () => {
    script["/flaky"] = [
      { status: 500 },
      { status: 503, headers: { "retry-after": "3" } },
    ];
    const { result, waits } = await run({ path: "/flaky", retries: 1 });
    expect(result.outcome).toBe("failed");
    expect(result.error?.retryClass).toBe("5xx");
    expect(result.error?.retryAfterMs).toBe(3_000);
    expect(result.output.status).toBe(503);
    expect(waits).toEqual([1_000]);
    expect(seen["/flaky"]).toBe(2);
  });

  it("leaves a long Retry-After to the task's retry policy", async () => {
    script["/flaky"] = [
      { status: 429, headers: { "retry-after": "3600" } },
      { status: 200 },
    ];
    const { result, waits } = await run({ path: "/flaky", retries: 5 });
    expect(result.error?.retryClass).toBe("429");
    expect(result.error?.retryAfterMs).toBe(3_600_000);
    expect(waits).toEqual([]);
  });

  it("does not retry a status that is not worth it", async () => {
    script["/flaky"] = [{ status: 404 }, { status: 200 }];
    const { result } = await run({ path: "/flaky", retries: 3 });
    expect(result.error?.retryable).toBe(false);
    expect(seen["/flaky"]).toBe(1);
  });

  it("retries a request that timed out", async () => {
    script["/slow-once"] = ["hang", { status: 200 }];
    const { result, waits } = await run({
      path: "/slow-once",
      retries: 1,
      timeout: 0.3,
    });
    expect(result.outcome).toBe("success");
    expect(result.output.body).toBe("try 2");
    expect(waits).toEqual([1_000]);
  });

  it("retries a refused connection with backoff", async () => {
    const gone = await startLoopbackServer({});
    const url = `${gone.base}/x`;
    await gone.close();
    const waits: number[] = [];
    const plugin = createHttpPlugin({
      sleep: async (ms) => {
        waits.push(ms);
      },
    })(pluginSdk);
    const result = await runPlugin(plugin, { config: { url, retries: 2 } });
    expect(result.error?.message).toBe("request failed: ECONNREFUSED");
    expect(result.error?.retryable).toBe(true);
    expect(waits).toEqual([1_000, 2_000]);
  });

  it("makes one try without retries", async () => {
    script["/flaky"] = [{ status: 503 }, { status: 200 }];
    const { result, waits } = await run({ path: "/flaky" });
    expect(result.error?.retryClass).toBe("5xx");
    expect(waits).toEqual([]);
  });
});
