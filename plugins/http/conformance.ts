/**
 * The http plugin's cases for the shared conformance suite, against two
 * loopback servers: one that answers, and one that never does, for the
 * timeout and cancel checks.
 */
import type { ConformanceCases } from "../../plugin-sdk/conformance.js";
import type { PluginRun } from "../../plugin-sdk/testing.js";
import { startLoopbackServer } from "./loopback-server.js";

/**
 * Starts the servers and returns the cases; `dispose` stops them. The
 * long run's request hangs until the plugin gives up on it; `stopped`
 * holds once the server saw that run's connection and saw it closed.
 */
export async function httpConformance(): Promise<{
  cases: ConformanceCases;
  dispose(): Promise<void>;
}> {
  const answering = await startLoopbackServer({
    "/json": (_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ ok: true, items: [1, 2, 3] }));
    },
    "/missing": (_req, res) => {
      res.writeHead(404).end("no such thing");
    },
  });
  // Never answers: the request stays open until the client closes it.
  const silent = await startLoopbackServer({ "/hang": () => {} });
  const runsSeen = new WeakMap<PluginRun, number>();
  let longRuns = 0;
  const cases: ConformanceCases = {
    success: {
      config: { url: `${answering.base}/json` },
      check(run) {
        if (run.output.status !== 200) throw new Error("status is not 200");
        const body = run.output.body as { ok?: boolean } | null;
        if (body?.ok !== true) throw new Error("the JSON body was not parsed");
      },
    },
    failure: { config: { url: `${answering.base}/missing` } },
    longRunning: {
      config: { url: `${silent.base}/hang` },
      started: (line) => line.message === "http request sent",
      // Each long run opens exactly one connection to the silent server:
      // the k-th run has stopped once k were accepted and none is open.
      async stopped(run) {
        let expected = runsSeen.get(run);
        if (expected === undefined) {
          expected = ++longRuns;
          runsSeen.set(run, expected);
        }
        return silent.accepted >= expected && silent.open === 0;
      },
    },
    invalidConfigs: [
      { config: { method: "GET" }, field: "config.url" },
      { config: { url: "ftp://example.test/" }, field: "config.url" },
      {
        config: { url: "http://example.test/", method: "FETCH" },
        field: "config.method",
      },
      {
        config: { url: "http://example.test/", max_response_bytes: 0 },
        field: "config.max_response_bytes",
      },
      {
        config: { url: "https://example.test/", tls: { cert: "c.pem" } },
        field: "config.tls",
      },
    ],
  };
  return {
    cases,
    async dispose() {
      await Promise.all([answering.close(), silent.close()]);
    },
  };
}
