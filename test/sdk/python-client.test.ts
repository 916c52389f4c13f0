import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { spawnAgent, stopAllAgents } from "../support/agent-process.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const run = promisify(execFile);

/** Debian's Python: its python3-grpcio works under this interpreter only. */
const PYTHON = "/usr/bin/python3";
const CLIENT_DIR = fileURLToPath(
  new URL("../../examples/python-client/", import.meta.url),
);
const CLIENT = join(CLIENT_DIR, "client.py");
const GENERATE = join(CLIENT_DIR, "generate.sh");
/** apt-get may need minutes on a cold cache. */
const INSTALL_TIMEOUT_MS = 600_000;

interface Exit {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs client.py with `args`; resolves with its exit, never throws. */
function client(args: string[]): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(PYTHON, [CLIENT, ...args], { timeout: 120_000 }, (e, o, r) => {
      const code = e ? (typeof e.code === "number" ? e.code : 99) : 0;
      resolve({ code, stdout: String(o), stderr: String(r) });
    });
  });
}

/** True when `command` runs and exits 0. */
async function works(command: string, args: string[]): Promise<boolean> {
  try {
    await run(command, args, { timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure Debian packages are present: checks with `probe`, installs
 * `packages` with apt-get when it fails, and fails the suite with what
 * to do when that does not help.
 */
async function ensureDebianPackages(
  what: string,
  probe: () => Promise<boolean>,
  packages: string[],
): Promise<void> {
  if (await probe()) return;
  const install = ["install", "-y", "--no-install-recommends", ...packages];
  const options = {
    timeout: INSTALL_TIMEOUT_MS,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  };
  let log = "";
  try {
    await run("apt-get", install, options).catch(async () => {
      await run("apt-get", ["update"], options);
      await run("apt-get", install, options);
    });
  } catch (error) {
    log = String((error as { stderr?: string }).stderr ?? error);
  }
  if (!(await probe())) {
    throw new Error(
      `${what} is missing and could not be installed ` +
        `(apt-get install -y ${packages.join(" ")} failed; it needs root ` +
        `and a reachable Debian mirror):\n${log.slice(-2000)}`,
    );
  }
}

/** Every file under `dir`, relative to it, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.endsWith(".pyc"))
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

beforeAll(async () => {
  await ensureDebianPackages(
    "Python gRPC (python3-grpcio under /usr/bin/python3)",
    () => works(PYTHON, ["-c", "import grpc, google.protobuf"]),
    ["python3-grpcio", "python3-protobuf"],
  );
  await ensureDebianPackages(
    "the stub generator (protoc and grpc_python_plugin)",
    async () =>
      (await works("protoc", ["--version"])) &&
      (await works("sh", ["-c", "command -v grpc_python_plugin"])),
    ["protobuf-compiler", "protobuf-compiler-grpc"],
  );
}, INSTALL_TIMEOUT_MS * 2);

describe("the Python example's stubs", () => {
  it("match what generate.sh makes of proto/ now", async () => {
    const out = await mkdtemp(join(tmpdir(), "deerflow-pystubs-"));
    try {
      await run(GENERATE, [out], { timeout: 60_000 });
      const committed = join(CLIENT_DIR, "deerflow");
      const fresh = join(out, "deerflow");
      const files = await filesUnder(fresh);
      expect(await filesUnder(committed)).toEqual(files);
      for (const file of files) {
        const same =
          (await readFile(join(fresh, file), "utf8")) ===
          (await readFile(join(committed, file), "utf8"));
        expect(
          same,
          `${file} is out of date: run examples/python-client/generate.sh`,
        ).toBe(true);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe.each(testBackends())(
  "the Python example client on $name",
  // Two client runs and a control plane; the machine is shared.
  { timeout: 240_000 },
  (backend) => {
    let cp: TestControlPlane | undefined;

    afterEach(async () => {
      await stopAllAgents();
      await cp?.close();
    });

    it("starts a run over gRPC, follows it, and reads its result", async () => {
      cp = await startTestControlPlane(backend);
      await spawnAgent({ serverUrl: cp.url, name: "py-agent" });
      const command =
        'echo "hello from python"; echo "answer=42" >> "$DEERFLOW_OUTPUT"';
      const asJson = await client([
        "--server",
        cp.url,
        "--command",
        command,
        "--json",
      ]);
      expect(asJson.code, asJson.stderr).toBe(0);
      const final = JSON.parse(asJson.stdout) as {
        id: string;
        workflowName: string;
        state: string;
        tasks: { id: string; state: string; output: Record<string, unknown> }[];
      };
      expect(final.state).toBe("RUN_STATE_SUCCESS");
      expect(final.workflowName).toBe("python-client");
      expect(final.tasks).toHaveLength(1);
      expect(final.tasks[0]?.state).toBe("TASK_STATE_SUCCESS");
      expect(final.tasks[0]?.output.answer).toBe(42);
      expect(final.tasks[0]?.output.stdout).toContain("hello from python");

      // The same run as the TypeScript side of the API reads it.
      const { run: stored } = await cp.clients.runs.getRun({ runId: final.id });
      expect(stored?.tasks[0]?.output).toMatchObject({ answer: 42 });

      // Without --json it prints the events it followed, then the result.
      const human = await client(["--server", cp.url]);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toMatch(/^started run [0-9a-f-]{36}$/m);
      expect(human.stdout).toContain("  task hello: TASK_STATE_RUNNING");
      expect(human.stdout).toContain("  run: RUN_STATE_SUCCESS");
      expect(human.stdout).toMatch(/^run [0-9a-f-]{36}: RUN_STATE_SUCCESS$/m);
      expect(human.stdout).toContain('"answer": 42, "exit_code": 0');
    });

    it("exits 1 for a failed run and 2 for an unreachable server", async () => {
      cp = await startTestControlPlane(backend);
      await spawnAgent({ serverUrl: cp.url, name: "py-agent" });
      const failed = await client(["--server", cp.url, "--command", "exit 7"]);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toContain("RUN_STATE_FAILED");

      const closedUrl = cp.url;
      await cp.close();
      const unreachable = await client(["--server", closedUrl]);
      expect(unreachable.code).toBe(2);
      expect(unreachable.stderr).toMatch(/^error: UNAVAILABLE: /);
    });
  },
);
