import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createApiClients } from "../../cli/api-clients.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { pollUntil } from "../support/poll-until.js";
import {
  type ServerProcess,
  startServerProcess,
  stopAllServers,
} from "../support/server-process.js";
import { type TestDatabase, testBackends } from "../support/test-database.js";

const BIN = fileURLToPath(new URL("../../bin/deerflow.js", import.meta.url));

const DEFINITION = [
  "name: outlives-restart",
  "tasks:",
  "  - id: slow",
  "    type: shell",
  "    command: sleep 15",
  "  - id: after",
  "    type: shell",
  "    depends_on: [slow]",
  "    command: echo done",
].join("\n");

describe.each(testBackends())(
  "deerflow run --wait across a control-plane restart on $name",
  (backend) => {
    let dir: string | undefined;
    let database: TestDatabase | undefined;
    afterEach(async () => {
      await stopAllAgents();
      await stopAllServers();
      await database?.drop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("waits for the control plane to come back, resumes after the last event and ends with the run", async () => {
      dir = await mkdtemp(join(tmpdir(), "deerflow-wait-restart-"));
      // The server process keeps its own state: PostgreSQL's database, or
      // PGlite's data dir, which the restarted process opens again.
      database =
        backend.name === "postgres" ? await backend.create() : undefined;
      let server: ServerProcess = await startServerProcess(
        database
          ? { databaseUrl: database.url }
          : { dataDir: join(dir, "data") },
      );
      await spawnAgent({ serverUrl: server.url, name: "survivor" });
      await waitForAgents(createApiClients(server.url), ["survivor"]);
      const file = join(dir, "flow.yaml");
      await writeFile(file, DEFINITION);

      const cli = spawn(process.execPath, [BIN, "run", file, "--wait"], {
        env: { ...process.env, DEERFLOW_SERVER: server.url },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      cli.stdout.on("data", (d) => (stdout += d));
      cli.stderr.on("data", (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) =>
        cli.once("exit", (code) => resolve(code)),
      );
      try {
        await pollUntil(
          () => (/slow\s+RUNNING/.test(stdout) ? true : undefined),
          "the slow task running",
        );
        await server.kill("SIGKILL");
        server = await server.restart();

        const code = await exited;
        expect(code, `${stdout}\n${stderr}`).toBe(0);
      } finally {
        cli.kill("SIGKILL");
      }
      expect(stdout).toMatch(
        /\(the control plane is unavailable: .+; trying again\)/,
      );
      expect(stdout).toMatch(/\(the control plane answers again\)/);
      // Said as soon as it answers, not at the next event: a quiet run's
      // next outage must count from zero (the slow task sleeps on).
      const at = (pattern: RegExp) =>
        Number(new RegExp(`([0-9.]+)s {2}${pattern.source}`).exec(stdout)?.[1]);
      expect(at(/\(the control plane answers again\)/)).toBeLessThan(
        at(/slow\s+SUCCESS/) - 1,
      );
      // Resumed after the last event printed: each transition once (an
      // event line starts with the seconds since the start).
      expect(stdout.match(/\ds {2}slow\s+RUNNING/g)).toHaveLength(1);
      expect(stdout.match(/\ds {2}slow\s+SUCCESS/g)).toHaveLength(1);
      expect(stdout.match(/\ds {2}after\s+SUCCESS/g)).toHaveLength(1);
      expect(stdout).toMatch(/run SUCCESS/);
      expect(stdout).toMatch(/after\s+SUCCESS\s+1\s+survivor/);
    });
  },
);
