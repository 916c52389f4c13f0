import { bullmqPeer } from "./bullmq-peer.js";
import { graphileWorkerPeer } from "./graphile-worker-peer.js";
import type { PeerSystem, PeerWorkerConfig } from "./peer-system.js";
import { pgBossPeer } from "./pg-boss-peer.js";

/** One way of running a peer: how many processes, and their settings. */
export interface PeerConfig {
  system: PeerSystem;
  /** Shown in tables: "4 processes × concurrency 4". */
  label: string;
  processes: number;
  worker: PeerWorkerConfig;
}

/**
 * The configurations each peer runs in: one with the same concurrency as
 * our fleet (by default 4 worker processes, 256 jobs at a time each, like
 * 4 agents with 256 slots), and one tuned for the peer's best throughput as
 * issue 6 measured it (graphile-worker at concurrency 10 in one process;
 * pg-boss fetching batches of 500 with 4 workers; BullMQ with high
 * concurrency). The better of the two is the one we are compared with.
 */
export function peerConfigs(agents: number, slots: number): PeerConfig[] {
  const same = `${agents} processes × concurrency ${slots}`;
  return [
    {
      system: graphileWorkerPeer,
      label: same,
      processes: agents,
      worker: { concurrency: slots, workersPerProcess: 1, batchSize: 1 },
    },
    {
      system: graphileWorkerPeer,
      label: "1 process × concurrency 10 (as in the issue)",
      processes: 1,
      worker: { concurrency: 10, workersPerProcess: 1, batchSize: 1 },
    },
    {
      system: pgBossPeer,
      label: `${agents} processes × 1 worker, batch 500`,
      processes: agents,
      worker: { concurrency: 1, workersPerProcess: 1, batchSize: 500 },
    },
    {
      system: pgBossPeer,
      label: "1 process × 4 workers, batch 500 (issue)",
      processes: 1,
      worker: { concurrency: 1, workersPerProcess: 4, batchSize: 500 },
    },
    {
      system: bullmqPeer,
      label: same,
      processes: agents,
      worker: { concurrency: slots, workersPerProcess: 1, batchSize: 1 },
    },
    {
      system: bullmqPeer,
      label: `${agents} processes × concurrency 50`,
      processes: agents,
      worker: { concurrency: 50, workersPerProcess: 1, batchSize: 1 },
    },
  ];
}
