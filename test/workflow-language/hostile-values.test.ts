import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunState, type Task } from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { startInline, waitForRun } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

/**
 * Values that would change a command, a URL, a statement or a document if
 * they were pasted into it. Each must arrive as exactly itself.
 */
const HOSTILE = [
  'it\'s "quoted"',
  "a; echo injected",
  "$(touch /tmp/deerflow-pwned)",
  "`id`",
  "line one\nline two",
  "' OR 1=1 --",
  "'; DROP TABLE hostile_values; --",
  "../../etc/passwd",
  "a&b=c#frag?x=/y%20z",
  "${params.other}",
  "unicode: héllo ✓ 日本語 🚀",
  "back\\slash",
];

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";

function task(run: { tasks: Task[] }, id: string): Task {
  const found = run.tasks.find((t) => t.id === id);
  if (!found) throw new Error(`no task ${id}`);
  return found;
}

describe.each(testBackends())(
  "hostile values through every built-in type on $name",
  (backend) => {
    let cp: TestControlPlane;
    let server: Server;
    let port: number;
    const received: { url: string; body: string }[] = [];
    const table = `hostile_values_${process.pid}_${backend.name}`;
    const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });

    beforeAll(async () => {
      cp = await startTestControlPlane(backend);
      server = createServer((req, res) => {
        let body = "";
        req.on("data", (chunk) => (body += chunk));
        req.on("end", () => {
          received.push({ url: req.url ?? "", body });
          res.setHeader("content-type", "application/json");
          res.end("{}");
        });
      });
      await new Promise<void>((resolve) =>
        server.listen(0, "127.0.0.1", resolve),
      );
      port = (server.address() as AddressInfo).port;
      await sql.unsafe(`CREATE TABLE ${table} (i int, v text)`);
      await spawnAgent({ serverUrl: cp.url, name: "everything", slots: 4 });
      await waitForAgents(cp.clients, ["everything"]);
    });
    afterAll(async () => {
      await stopAllAgents();
      await cp.close();
      await new Promise((resolve) => server.close(resolve));
      await sql.unsafe(`DROP TABLE IF EXISTS ${table}`);
      await sql.end();
    });

    it("arrives unchanged in shell, python, http (URL and JSON body) and sql", async () => {
      const runId = await startInline(
        cp.clients,
        {
          name: "hostile",
          params: { values: [], other: "must not be read", url: PG_URL },
          tasks: [
            {
              id: "shell",
              type: "shell",
              for_each: "${params.values}",
              command:
                'printf \'%s\' ${item} > "$DEERFLOW_WORK_DIR/v"; cat "$DEERFLOW_WORK_DIR/v"',
            },
            {
              id: "python",
              type: "python",
              for_each: "${params.values}",
              code: "def echo(v):\n    return {'v': v}\n",
              function: "echo",
              args: ["${item}"],
            },
            {
              id: "http",
              type: "http",
              for_each: "${params.values}",
              method: "POST",
              url: `http://127.0.0.1:${port}/echo/\${index}?q=\${item}`,
              body: { v: "${item}", i: "${index}" },
            },
            {
              id: "sql",
              type: "sql",
              for_each: "${params.values}",
              connection: "${params.url}",
              query: `insert into ${table} (i, v) values (\${index}, \${item})`,
            },
          ],
        },
        { values: HOSTILE },
      );
      const run = await waitForRun(cp.clients, runId);
      const failed = run.tasks
        .filter((t) => t.error)
        .map((t) => `${t.id}: ${t.error}`);
      expect(failed).toEqual([]);
      expect(run.state).toBe(RunState.SUCCESS);

      HOSTILE.forEach((value, i) => {
        // shell: printf wrote the value's bytes, read back by cat.
        expect(task(run, `shell[${i}]`).output?.stdout).toBe(value);
        // python: the argument arrived as the string itself.
        expect(task(run, `python[${i}]`).output?.result).toEqual({ v: value });
      });
      // http: one path segment per request, the query percent-encoded, the
      // JSON body typed.
      for (const [i, value] of HOSTILE.entries()) {
        const request = received.find((r) => r.url.startsWith(`/echo/${i}?`));
        expect(request, `request ${i}`).toBeDefined();
        const url = new URL(request?.url ?? "", "http://x");
        expect(url.pathname).toBe(`/echo/${i}`);
        expect([...url.searchParams.keys()]).toEqual(["q"]);
        expect(url.searchParams.get("q")).toBe(value);
        expect(JSON.parse(request?.body ?? "")).toEqual({ v: value, i });
      }
      // sql: bind parameters stored every value byte for byte, and the
      // table survived the DROP TABLE value.
      const rows = await sql.unsafe(`select i, v from ${table} order by i`);
      expect(rows.map((r) => r.v)).toEqual(HOSTILE);
    }, 300_000);
  },
);
