/** Where a peer keeps its jobs: our PostgreSQL server, or the local Redis. */
export interface PeerTarget {
  /** The peer's own fresh database (PostgreSQL peers). */
  databaseUrl?: string | undefined;
  /** The local Redis (BullMQ). */
  redis?: { host: string; port: number } | undefined;
  /** A queue name of this run only, so nothing else is touched. */
  queue: string;
  /**
   * PostgreSQL connections one worker process may open: its share of
   * what the server has free (PostgreSQL peers).
   */
  connectionsPerProcess?: number | undefined;
}

/** How one peer configuration runs its workers. */
export interface PeerWorkerConfig {
  /** Jobs one worker process runs at once (graphile, BullMQ). */
  concurrency: number;
  /** Workers inside one process (pg-boss `work` calls). */
  workersPerProcess: number;
  /** Jobs fetched per poll (pg-boss batchSize); 1 for the others. */
  batchSize: number;
}

/** The harness's side of a peer: it enqueues and counts. */
export interface PeerClient {
  /** The peer library's version, and its backend's where it has one. */
  readonly versions: Record<string, string>;
  /**
   * What its backend keeps on disk, where that differs from our
   * PostgreSQL server's (BullMQ's Redis): a reader weighs the numbers by it.
   */
  readonly durability?: string;
  /** Enqueues `count` no-op jobs in as few round trips as the API allows. */
  enqueue(count: number): Promise<void>;
  /** Jobs not yet completed (waiting, running, or to be retried). */
  remaining(): Promise<number>;
  /** Removes the queue and closes connections. */
  close(): Promise<void>;
}

/** A worker pool started inside a peer worker process. */
export interface PeerWorkers {
  stop(): Promise<void>;
}

/** One peer job system, as the benchmark drives it. */
export interface PeerSystem {
  name: "graphile-worker" | "pg-boss" | "bullmq";
  /** Prepares the schema or queue and returns the enqueueing side. */
  connect(target: PeerTarget): Promise<PeerClient>;
  /**
   * Starts workers whose handler does no work but count the job: the
   * same no-op the noop task type runs.
   */
  startWorkers(
    target: PeerTarget,
    config: PeerWorkerConfig,
    onJobs: (count: number) => void,
  ): Promise<PeerWorkers>;
}
