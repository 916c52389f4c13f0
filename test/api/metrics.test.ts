import http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RunState } from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { pollUntil } from "../support/poll-until.js";
import { startInline, waitForRun } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

/** One sample of a scrape: a metric's name, its labels and its value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus's text format, as far as these tests read it. */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(
      /(\w+)="([^"]*)"/g,
    )) {
      labels[key as string] = value as string;
    }
    samples.push({
      name: match[1] as string,
      labels,
      value: Number(match[3]),
    });
  }
  return samples;
}

/** The sample's value, or 0 when it is not there. */
function value(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = samples.find(
    (s) =>
      s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found?.value ?? 0;
}

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(
    /^text\/plain; version=0\.0\.4/,
  );
  return parse(await res.text());
}

/** GET /metrics over HTTP/2 without TLS, as a gRPC client connects. */
async function scrapeOverHttp2(url: string, method = "GET") {
  const session = http2.connect(url);
  try {
    return await new Promise<{ status: number; body: string }>(
      (resolve, reject) => {
        const req = session.request({ ":path": "/metrics", ":method": method });
        let status = 0;
        let body = "";
        req.on("response", (headers) => {
          status = Number(headers[":status"]);
        });
        req.setEncoding("utf8");
        req.on("data", (chunk: string) => {
          body += chunk;
        });
        req.on("end", () => resolve({ status, body }));
        req.on("error", reject);
        req.end();
      },
    );
  } finally {
    session.close();
  }
}

const TASKS = 3;

describe.each(testBackends())("/metrics on $name", (backend) => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startTestControlPlane(backend);
  });
  afterEach(async () => {
    await stopAllAgents();
    await cp.close();
  });

  it("counts runs, leases and results, and reads the queue and agents from the database", async () => {
    // Counters are the process's (other tests may run in it): compare.
    const before = await scrape(cp.url);
    expect(value(before, "deerflow_database_up")).toBe(1);
    expect(value(before, "process_cpu_seconds_total")).toBeGreaterThan(0);

    const runId = await startInline(cp.clients, {
      name: "metered",
      tasks: Array.from({ length: TASKS }, (_, i) => ({
        id: `t${i}`,
        type: "shell",
        command: "true",
      })),
    });
    // No agent yet: the tasks wait in the queue.
    const queued = await scrape(cp.url);
    expect(value(queued, "deerflow_tasks", { state: "QUEUED" })).toBe(TASKS);
    expect(value(queued, "deerflow_runs_open")).toBe(1);
    expect(value(queued, "deerflow_agent_sessions")).toBe(0);
    expect(
      value(queued, "deerflow_runs_started_total") -
        value(before, "deerflow_runs_started_total"),
    ).toBe(1);
    const startRuns = (s: Sample[]) =>
      value(s, "deerflow_rpcs_handled_total", {
        method: "StartRun",
        code: "ok",
      });
    expect(startRuns(queued) - startRuns(before)).toBe(1);
    expect(
      value(queued, "deerflow_rpc_duration_seconds_count", {
        method: "StartRun",
      }),
    ).toBeGreaterThanOrEqual(1);

    await spawnAgent({ serverUrl: cp.url, name: "metered-agent", slots: 2 });
    await waitForAgents(cp.clients, ["metered-agent"]);
    const run = await waitForRun(cp.clients, runId);
    expect(run.state, run.error).toBe(RunState.SUCCESS);

    const after = await pollUntil(async () => {
      // A result is counted once its transaction commits, which may be
      // just after the run reads SUCCESS elsewhere.
      const samples = await scrape(cp.url);
      const recorded =
        value(samples, "deerflow_results_recorded_total", {
          outcome: "SUCCESS",
        }) -
        value(before, "deerflow_results_recorded_total", {
          outcome: "SUCCESS",
        });
      return recorded >= TASKS ? samples : undefined;
    }, "three results counted");
    expect(
      value(after, "deerflow_results_recorded_total", { outcome: "SUCCESS" }) -
        value(before, "deerflow_results_recorded_total", {
          outcome: "SUCCESS",
        }),
    ).toBe(TASKS);
    expect(
      value(after, "deerflow_leases_granted_total") -
        value(before, "deerflow_leases_granted_total"),
    ).toBe(TASKS);
    // Nothing open: no task gauge at all, rather than stale ones.
    expect(after.filter((s) => s.name === "deerflow_tasks")).toEqual([]);
    expect(value(after, "deerflow_runs_open")).toBe(0);
    expect(value(after, "deerflow_leases_held")).toBe(0);
    expect(value(after, "deerflow_agents", { state: "CONNECTED" })).toBe(1);
    expect(value(after, "deerflow_agent_sessions")).toBe(1);
  });

  it("counts refused calls by their code", async () => {
    const before = await scrape(cp.url);
    const error = await cp.clients.runs
      .getRun({ runId: "not-a-run" })
      .then(() => undefined, ConnectError.from);
    expect(error?.code).toBe(Code.InvalidArgument);
    const after = await scrape(cp.url);
    const refused = (s: Sample[]) =>
      value(s, "deerflow_rpcs_handled_total", {
        method: "GetRun",
        code: "invalid_argument",
      });
    expect(refused(after) - refused(before)).toBe(1);
  });

  it("answers over HTTP/2 too, HEAD without a body, and refuses other methods", async () => {
    const got = await scrapeOverHttp2(cp.url);
    expect(got.status).toBe(200);
    expect(value(parse(got.body), "deerflow_database_up")).toBe(1);
    const head = await fetch(`${cp.url}/metrics`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const post = await scrapeOverHttp2(cp.url, "POST");
    expect(post.status).toBe(405);
    const put = await fetch(`${cp.url}/metrics`, { method: "PUT" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, HEAD");
  });
});
