import { once } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ServiceImpl,
} from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { RunSchema, RunService, RunState } from "../gen/deerflow/v1/run_pb.js";
import type { Protocol } from "./client-options.js";
import { createClient, type DeerFlowClient } from "./create-client.js";

/**
 * A RunService stand-in on loopback: the client under test speaks to a
 * real server over real sockets, and the stand-in reports what arrived
 * (headers, deadlines, the sequence a watch resumed from).
 */
interface StandIn {
  url: string;
  close(): Promise<void>;
}

const standIns: StandIn[] = [];
const clients: DeerFlowClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(standIns.splice(0).map((s) => s.close()));
});

async function startStandIn(
  impl: Partial<ServiceImpl<typeof RunService>>,
  httpVersion: "1.1" | "2" = "2",
): Promise<StandIn> {
  const handler = connectNodeAdapter({
    routes: (router: ConnectRouter) => router.service(RunService, impl),
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  const sockets = new Set<import("node:net").Socket>();
  const server =
    httpVersion === "2"
      ? http2.createServer(handler)
      : http.createServer(handler);
  server.on("session", (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });
  server.on("connection", (s: import("node:net").Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const standIn: StandIn = {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sessions) s.destroy();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  standIns.push(standIn);
  return standIn;
}

function client(options: Parameters<typeof createClient>[0]) {
  const made = createClient(options);
  clients.push(made);
  return made;
}

/** Answers GetRun and WatchRun with what the request carried. */
const echo: Partial<ServiceImpl<typeof RunService>> = {
  getRun(req, ctx) {
    return {
      run: create(RunSchema, {
        id: req.runId,
        error: ctx.requestHeader.get("authorization") ?? "",
        workflowName: String(ctx.timeoutMs() !== undefined),
      }),
    };
  },
  async *watchRun(_req, ctx) {
    yield {
      event: {
        runId: `${ctx.requestHeader.get("authorization")}`,
        sequence: ctx.timeoutMs() === undefined ? 0n : 1n,
      },
    };
  },
};

const PROTOCOLS: [Protocol, "1.1" | "2"][] = [
  ["connect", "2"],
  ["connect", "1.1"],
  ["grpc", "2"],
  ["grpc-web", "2"],
  ["grpc-web", "1.1"],
];

describe.each(PROTOCOLS)("createClient over %s, HTTP/%s", (protocol, v) => {
  it("sends the token, a deadline on unary calls and none on streams", async () => {
    const standIn = await startStandIn(echo, v);
    const c = client({
      baseUrl: standIn.url,
      protocol,
      httpVersion: v,
      token: "t0ken",
    });
    const { run } = await c.runs.getRun({ runId: "r1" });
    expect(run?.id).toBe("r1");
    expect(run?.error).toBe("Bearer t0ken");
    expect(run?.workflowName).toBe("true");
    const events = [];
    for await (const { event } of c.runs.watchRun({ runId: "r1" })) {
      events.push(event);
    }
    expect(events).toHaveLength(1);
    expect(events[0]?.runId).toBe("Bearer t0ken");
    expect(events[0]?.sequence).toBe(0n);
  });
});

describe("createClient", () => {
  it("sends no deadline when timeoutMs is 0, and no token unless given", async () => {
    const standIn = await startStandIn(echo);
    const c = client({ baseUrl: standIn.url, timeoutMs: 0 });
    const { run } = await c.runs.getRun({ runId: "r" });
    expect(run?.error).toBe("");
    expect(run?.workflowName).toBe("false");
  });

  it("ends a unary call that outlives timeoutMs with DeadlineExceeded", async () => {
    const standIn = await startStandIn({
      async cancelRun(_req, ctx) {
        await new Promise((resolve) =>
          ctx.signal.addEventListener("abort", resolve),
        );
        return {};
      },
    });
    const c = client({ baseUrl: standIn.url, timeoutMs: 200 });
    const error = await c.runs.cancelRun({ runId: "r" }).catch((e) => e);
    expect(ConnectError.from(error).code).toBe(Code.DeadlineExceeded);
  });
});

describe("waitForRun against a RunService stand-in", () => {
  it("follows again from the last event after a drop, until the run ends", async () => {
    const resumedFrom: bigint[] = [];
    let reads = 0;
    const standIn = await startStandIn({
      async *watchRun(req) {
        resumedFrom.push(req.afterSequence);
        if (resumedFrom.length === 1) {
          yield { event: { runId: req.runId, sequence: 1n } };
          throw new ConnectError("replica going away", Code.Unavailable);
        }
        if (resumedFrom.length === 2) {
          yield { event: { runId: req.runId, sequence: 2n } };
        }
      },
      getRun(req) {
        reads++;
        const state = reads === 1 ? RunState.RUNNING : RunState.SUCCESS;
        return { run: create(RunSchema, { id: req.runId, state }) };
      },
    });
    const c = client({ baseUrl: standIn.url });
    const seen: bigint[] = [];
    const run = await c.waitForRun("r9", {
      reconnectDelayMs: 1,
      onEvent: (e) => seen.push(e.sequence),
    });
    expect(run.state).toBe(RunState.SUCCESS);
    expect(seen).toEqual([1n, 2n]);
    expect(resumedFrom).toEqual([0n, 1n, 2n]);
  });

  it("passes on an error that is not transient", async () => {
    const standIn = await startStandIn({
      // biome-ignore lint/correctness/useYield: fails before any event
      async *watchRun(req) {
        throw new ConnectError(`run ${req.runId} not found`, Code.NotFound);
      },
    });
    const c = client({ baseUrl: standIn.url });
    const error = await c.waitForRun("nope").catch((e) => e);
    expect(ConnectError.from(error).code).toBe(Code.NotFound);
  });

  it("stops when its signal aborts", async () => {
    const standIn = await startStandIn({
      async *watchRun(req, ctx) {
        yield { event: { runId: req.runId, sequence: 1n } };
        await new Promise((resolve) =>
          ctx.signal.addEventListener("abort", resolve),
        );
      },
    });
    const c = client({ baseUrl: standIn.url });
    const controller = new AbortController();
    const error = await c
      .waitForRun("r", {
        signal: controller.signal,
        onEvent: () => controller.abort(),
      })
      .catch((e) => e);
    expect(ConnectError.from(error).code).toBe(Code.Canceled);
  });
});
