/**
 * A process that holds many simulated agents' sessions to one control
 * plane. Started by the fleet scenario with its settings in
 * DEERFLOW_BENCH_FLEET (JSON). Says "fleet-loaded" once loaded, opens
 * its sessions on SIGUSR2, reports a stats line on stdout every second;
 * SIGTERM ends every session and exits.
 */
import { createClient } from "@connectrpc/connect";
import {
  createGrpcTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { AgentService } from "../../gen/deerflow/v1/agent_pb.js";
import type { FleetStatsLine } from "./fleet-stats.js";
import { type FleetCounters, SimulatedAgent } from "./simulated-agent.js";

/** The settings a fleet process reads from DEERFLOW_BENCH_FLEET. */
export interface FleetProcessSettings {
  serverUrl: string;
  /** Simulated agents in this process. */
  agents: number;
  /** Prefix of their names; each is `<prefix>-<i>`. */
  namePrefix: string;
  slots: number;
  labels: Record<string, string>;
  /** Agents that share one HTTP/2 connection; 1 = one each, like hosts. */
  agentsPerConnection: number;
  /** Hellos outstanding at once while connecting. */
  connectConcurrency: number;
}

const settings = JSON.parse(
  process.env.DEERFLOW_BENCH_FLEET ?? "null",
) as FleetProcessSettings | null;
if (!settings) {
  process.stderr.write("fleet-process: DEERFLOW_BENCH_FLEET is not set\n");
  process.exit(2);
}

const counters: FleetCounters = {
  connected: 0,
  lost: 0,
  failed: 0,
  heartbeats: 0,
  heartbeatAcks: 0,
  assignments: 0,
  results: 0,
  ackLatenciesMs: [],
  firstError: undefined,
};
const stopping = new AbortController();
const connections: Http2SessionManager[] = [];
const sessions: Promise<void>[] = [];

function report(): void {
  const line: FleetStatsLine = {
    kind: "fleet-stats",
    connected: counters.connected,
    lost: counters.lost,
    failed: counters.failed,
    heartbeats: counters.heartbeats,
    heartbeatAcks: counters.heartbeatAcks,
    assignments: counters.assignments,
    results: counters.results,
    ackLatenciesMs: counters.ackLatenciesMs.splice(0),
    firstError: counters.firstError,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function connectAll(s: FleetProcessSettings): Promise<void> {
  let client: ReturnType<typeof createClient<typeof AgentService>> | undefined;
  let pending = 0;
  let release: (() => void) | undefined;
  for (let i = 0; i < s.agents && !stopping.signal.aborted; i += 1) {
    if (i % s.agentsPerConnection === 0 || client === undefined) {
      const connection = new Http2SessionManager(s.serverUrl);
      connections.push(connection);
      client = createClient(
        AgentService,
        createGrpcTransport({
          baseUrl: s.serverUrl,
          sessionManager: connection,
        }),
      );
    }
    while (pending >= s.connectConcurrency) {
      await new Promise<void>((r) => {
        release = r;
      });
    }
    pending += 1;
    const agent = new SimulatedAgent(
      { name: `${s.namePrefix}-${i}`, slots: s.slots, labels: s.labels },
      counters,
    );
    sessions.push(
      agent.run(client, stopping.signal, () => {
        pending -= 1;
        release?.();
        release = undefined;
      }),
    );
  }
}

const timer = setInterval(report, 1000);
// Loaded: say so, and open the sessions on SIGUSR2, so that the harness
// times the connecting alone, not the loading of this process.
process.once("SIGUSR2", () => void connectAll(settings));
process.stdout.write('{"kind":"fleet-loaded"}\n');
process.once("SIGTERM", () => {
  stopping.abort();
  void Promise.allSettled(sessions).then(() => {
    for (const c of connections) c.abort();
    clearInterval(timer);
    report();
    process.exit(0);
  });
});
