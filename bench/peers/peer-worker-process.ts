/**
 * A worker process of one peer job system, started by the peers scenario
 * with its settings in DEERFLOW_BENCH_PEER (JSON). Prints a ready line
 * once its workers run, then how many jobs it handled every 500 ms;
 * SIGTERM stops the workers and exits.
 */
import { bullmqPeer } from "./bullmq-peer.js";
import { graphileWorkerPeer } from "./graphile-worker-peer.js";
import type {
  PeerSystem,
  PeerTarget,
  PeerWorkerConfig,
} from "./peer-system.js";
import { pgBossPeer } from "./pg-boss-peer.js";

/** What DEERFLOW_BENCH_PEER holds. */
export interface PeerWorkerSettings {
  system: PeerSystem["name"];
  target: PeerTarget;
  config: PeerWorkerConfig;
}

const SYSTEMS: Record<PeerSystem["name"], PeerSystem> = {
  "graphile-worker": graphileWorkerPeer,
  "pg-boss": pgBossPeer,
  bullmq: bullmqPeer,
};

const settings = JSON.parse(
  process.env.DEERFLOW_BENCH_PEER ?? "null",
) as PeerWorkerSettings | null;
if (!settings || !(settings.system in SYSTEMS)) {
  process.stderr.write("peer-worker: DEERFLOW_BENCH_PEER is missing or bad\n");
  process.exit(2);
}

let handled = 0;
const report = () =>
  process.stdout.write(`${JSON.stringify({ kind: "peer-stats", handled })}\n`);

try {
  const workers = await SYSTEMS[settings.system].startWorkers(
    settings.target,
    settings.config,
    (count) => {
      handled += count;
    },
  );
  process.stdout.write(`${JSON.stringify({ kind: "peer-ready" })}\n`);
  const timer = setInterval(report, 500);
  process.once("SIGTERM", () => {
    clearInterval(timer);
    void workers.stop().finally(() => {
      report();
      process.exit(0);
    });
  });
} catch (error) {
  process.stderr.write(`peer-worker: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
}
