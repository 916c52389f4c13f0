import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ApiClients } from "../../cli/api-clients.js";
import { AgentState } from "../../gen/deerflow/v1/agent_pb.js";

const BIN = fileURLToPath(new URL("../../bin/deerflow.js", import.meta.url));

export interface AgentProcessOptions {
  serverUrl: string;
  name: string;
  labels?: Record<string, string>;
  slots?: number;
  /** Keeps the agent id; reuse it to restart "the same" agent. */
  stateDir?: string;
  env?: Record<string, string>;
  /** More flags, for example `["--plugins", dir]`. */
  args?: string[];
}

/** A real `deerflow agent` process. */
export interface AgentProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly stateDir: string;
  /** Everything the process wrote to stderr (its logs). */
  output(): string;
  /** Resolves with the exit code or signal. */
  readonly exited: Promise<number | NodeJS.Signals>;
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<AgentProcess>();
const stateDirs = new Set<string>();

/** Starts `deerflow agent` as a child process. */
export async function spawnAgent(
  options: AgentProcessOptions,
): Promise<AgentProcess> {
  const stateDir =
    options.stateDir ?? (await mkdtemp(join(tmpdir(), "deerflow-agent-")));
  stateDirs.add(stateDir);
  const args = [
    BIN,
    "agent",
    "--server",
    options.serverUrl,
    "--name",
    options.name,
  ];
  for (const [k, v] of Object.entries(options.labels ?? {}))
    args.push("--label", `${k}=${v}`);
  args.push("--slots", String(options.slots ?? 2), "--state-dir", stateDir);
  args.push(...(options.args ?? []));
  const child = spawn(process.execPath, args, {
    env: { ...process.env, DEERFLOW_LOG_LEVEL: "info", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? code ?? 0)),
  );
  const agent: AgentProcess = {
    name: options.name,
    child,
    stateDir,
    output: () => output,
    exited,
    kill: (signal = "SIGKILL") => {
      if (child.exitCode === null && child.signalCode === null)
        child.kill(signal);
    },
  };
  running.add(agent);
  void exited.then(() => running.delete(agent));
  return agent;
}

/** Waits until the agent's logs match `pattern`. */
export async function waitForOutput(
  agent: AgentProcess,
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(agent.output())) {
    if (Date.now() > deadline || agent.child.exitCode !== null) {
      throw new Error(
        `agent ${agent.name} never logged ${pattern}:\n${agent.output()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until agents with these names hold a session. */
export async function waitForAgents(
  clients: ApiClients,
  names: readonly string[],
  // Generous: agents start slowly on a loaded 2-core machine.
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { agents } = await clients.agents.listAgents({});
    const connected = new Set(
      agents.filter((a) => a.state === AgentState.CONNECTED).map((a) => a.name),
    );
    if (names.every((n) => connected.has(n))) return;
    if (Date.now() > deadline) {
      throw new Error(
        `agents ${names.join(", ")} did not connect; connected: ${[...connected].join(", ")}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Kills every agent process the test started and removes their state
 * directories. Agents run until told to stop, so the fixture owns
 * stopping them: call it in afterEach.
 */
export async function stopAllAgents(): Promise<void> {
  const all = [...running];
  for (const agent of all) agent.kill("SIGKILL");
  await Promise.all(all.map((a) => a.exited));
  for (const dir of stateDirs) await rm(dir, { recursive: true, force: true });
  stateDirs.clear();
}
