import { fileURLToPath } from "node:url";
import { type Child, startChild, tsxEntry } from "../harness/child-process.js";
import type { Cleanup } from "../harness/cleanup.js";
import { waitFor } from "../harness/wait-for.js";
import type { FleetProcessSettings } from "./fleet-process.js";
import { type FleetStatsLine, parseFleetStats } from "./fleet-stats.js";

const ENTRY = fileURLToPath(new URL("./fleet-process.ts", import.meta.url));

/** The sum of every fleet process's last stats line. */
export type FleetTotals = Omit<FleetStatsLine, "kind" | "ackLatenciesMs">;

/** How to start a {@link Fleet}. */
export interface FleetOptions {
  serverUrl: string;
  agents: number;
  /** Processes the agents are spread over; default 4. */
  processes?: number;
  slots?: number;
  labels: Record<string, string>;
  agentsPerConnection?: number;
  connectConcurrency?: number;
}

/**
 * Many simulated agents spread over a few processes, with their stats
 * summed. Heartbeat round trips are collected per phase, so the idle
 * and busy stretches of a scenario are told apart.
 */
export class Fleet {
  private readonly children: Child[] = [];
  private readonly last = new Map<Child, FleetStatsLine>();
  private readonly loaded = new Set<Child>();
  private latencies: number[] = [];

  private constructor(private readonly size: number) {}

  /** Starts the processes and waits until each has loaded. */
  static async start(cleanup: Cleanup, options: FleetOptions): Promise<Fleet> {
    const processes = Math.min(options.processes ?? 4, options.agents);
    const fleet = new Fleet(options.agents);
    for (let p = 0; p < processes; p += 1) {
      const share =
        Math.floor(options.agents / processes) +
        (p < options.agents % processes ? 1 : 0);
      const settings: FleetProcessSettings = {
        serverUrl: options.serverUrl,
        agents: share,
        namePrefix: `fleet-${p}`,
        slots: options.slots ?? 1,
        labels: options.labels,
        agentsPerConnection: options.agentsPerConnection ?? 1,
        connectConcurrency: options.connectConcurrency ?? 50,
      };
      const child = startChild(`fleet process ${p}`, tsxEntry(ENTRY), {
        ...process.env,
        DEERFLOW_BENCH_FLEET: JSON.stringify(settings),
      });
      cleanup.defer(`fleet process ${p}`, async () => {
        void child.stop("SIGTERM");
        const ended = await Promise.race([
          child.exited.then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), 15_000)),
        ]);
        if (!ended) await child.stop("SIGKILL");
      });
      child.onLine((line) => fleet.take(child, line));
      fleet.children.push(child);
    }
    await waitFor(
      `${processes} fleet processes to load`,
      () => {
        fleet.throwIfExited();
        return fleet.loaded.size === processes ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 100 },
    );
    return fleet;
  }

  /** Tells every process to open its sessions (the clock starts here). */
  connect(): void {
    for (const child of this.children) child.process.kill("SIGUSR2");
  }

  private throwIfExited(): void {
    for (const child of this.children) {
      if (child.process.exitCode !== null) {
        throw new Error(`${child.name} exited:\n${child.tail()}`);
      }
    }
  }

  private take(child: Child, line: string): void {
    if (line.startsWith('{"kind":"fleet-loaded"')) this.loaded.add(child);
    const stats = parseFleetStats(line);
    if (!stats) return;
    this.last.set(child, stats);
    for (const v of stats.ackLatenciesMs) this.latencies.push(v);
  }

  /** Counters summed over the processes (as of their last line). */
  totals(): FleetTotals {
    const sum: FleetTotals = {
      connected: 0,
      lost: 0,
      failed: 0,
      heartbeats: 0,
      heartbeatAcks: 0,
      assignments: 0,
      results: 0,
      firstError: undefined,
    };
    for (const s of this.last.values()) {
      sum.connected += s.connected;
      sum.lost += s.lost;
      sum.failed += s.failed;
      sum.heartbeats += s.heartbeats;
      sum.heartbeatAcks += s.heartbeatAcks;
      sum.assignments += s.assignments;
      sum.results += s.results;
      sum.firstError ??= s.firstError;
    }
    return sum;
  }

  /** Heartbeat round trips since the last call, and starts a new phase. */
  takeLatencies(): number[] {
    const taken = this.latencies;
    this.latencies = [];
    return taken;
  }

  /**
   * Waits until every agent is welcomed (after {@link connect}); fails if
   * sessions failed.
   */
  async connected(timeoutMs: number): Promise<void> {
    await waitFor(
      `${this.size} simulated agents to be welcomed`,
      () => {
        const t = this.totals();
        if (t.failed > 0 || t.lost > 0) {
          throw new Error(
            `simulated agents failed to connect (${t.failed} failed, ${t.lost} lost): ${t.firstError ?? ""}`,
          );
        }
        this.throwIfExited();
        return t.connected >= this.size ? true : undefined;
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  /** The processes' pids, to measure their CPU if wanted. */
  pids(): number[] {
    return this.children.map((c) => c.pid);
  }
}
