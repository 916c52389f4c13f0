import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { Gauge, Registry } from "prom-client";
import { type Db, rowsOf } from "../db/index.js";

/** What the gauges read of one control plane besides its database. */
export interface DatabaseGaugeSources {
  db: Db;
  /** Agent sessions open on this replica. */
  sessions(): number;
  logger: Logger;
}

/**
 * Gauges of the whole system, read from the database when Prometheus
 * scrapes: tasks not yet ended by state, runs with a task left, agents by
 * state, leases held. Every replica reports the same numbers (take the
 * max across replicas, not the sum), except the sessions it holds.
 *
 * One statement per scrape, through partial indexes that hold only open
 * tasks and held leases, so its cost follows the queue, not the history.
 * When the database does not answer, `deerflow_database_up` is 0 and the
 * database's gauges are left out rather than reported stale.
 */
export class DatabaseGauges {
  /** Reported at every scrape. */
  private readonly always = new Registry();
  /** Reported only when this scrape's read of the database worked. */
  private readonly fromDatabase = new Registry();
  private readonly up = this.gauge(
    this.always,
    "deerflow_database_up",
    "1 when this scrape's read of the database worked, else 0.",
  );
  private readonly sessions = this.gauge(
    this.always,
    "deerflow_agent_sessions",
    "Agent sessions open on this control-plane replica.",
  );
  private readonly tasks = this.gauge(
    this.fromDatabase,
    "deerflow_tasks",
    "Tasks not yet ended, by state (QUEUED is the queue's depth).",
    ["state"],
  );
  private readonly runs = this.gauge(
    this.fromDatabase,
    "deerflow_runs_open",
    "Runs with at least one task not yet ended.",
  );
  private readonly agents = this.gauge(
    this.fromDatabase,
    "deerflow_agents",
    "Agents known to the control plane, by state.",
    ["state"],
  );
  private readonly leases = this.gauge(
    this.fromDatabase,
    "deerflow_leases_held",
    "Leases granted or active: attempts assigned to or running on agents and workers.",
  );

  constructor(private readonly sources: DatabaseGaugeSources) {}

  /**
   * Reads the database and sets every gauge; returns the registries to
   * report. A read that fails, or takes longer than {@link READ_TIMEOUT_MS}
   * (a scrape must answer within Prometheus's 10 s), leaves the
   * database's gauges out.
   */
  async refresh(): Promise<Registry[]> {
    this.sessions.set(this.sources.sessions());
    for (const gauge of [this.tasks, this.agents]) gauge.reset();
    try {
      const counts = await withTimeout(readCounts(this.sources.db));
      for (const [state, n] of counts.tasks) this.tasks.set({ state }, n);
      this.runs.set(counts.openRuns);
      for (const [state, n] of counts.agents) this.agents.set({ state }, n);
      this.leases.set(counts.heldLeases);
      this.up.set(1);
      return [this.always, this.fromDatabase];
    } catch (error) {
      this.sources.logger.warn(
        { err: error },
        "metrics: could not read the database's gauges",
      );
      this.up.set(0);
      return [this.always];
    }
  }

  private gauge(
    registry: Registry,
    name: string,
    help: string,
    labelNames: string[] = [],
  ) {
    return new Gauge({ name, help, labelNames, registers: [registry] });
  }
}

/** How long a scrape waits for the database's counts. */
const READ_TIMEOUT_MS = 5_000;

async function withTimeout<T>(read: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`the database did not answer within ${READ_TIMEOUT_MS} ms`),
        ),
      READ_TIMEOUT_MS,
    );
  });
  // A read that answers after the timeout is dropped, not unhandled.
  read.catch(() => {});
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface Counts {
  tasks: [string, number][];
  openRuns: number;
  agents: [string, number][];
  heldLeases: number;
}

async function readCounts(db: Db): Promise<Counts> {
  // One read of the open tasks (the tasks_open index's predicate, word
  // for word): a row per state, and a total row (state NULL) whose
  // distinct runs are the open runs.
  const rows = rowsOf<{
    kind: string;
    key: string | null;
    n: number;
    runs: number;
  }>(
    await db.execute(sql`
      SELECT 'task' AS kind, state AS key, count(*)::int AS n,
        count(DISTINCT run_id)::int AS runs
      FROM tasks
      WHERE state NOT IN ('SUCCESS', 'FAILED', 'KILLED', 'SKIPPED', 'UPSTREAM_FAILED')
      GROUP BY GROUPING SETS ((state), ())
      UNION ALL
      SELECT 'agent', state, count(*)::int, 0 FROM agents GROUP BY state
      UNION ALL
      SELECT 'leases', NULL, count(*)::int, 0
      FROM leases WHERE state IN ('GRANTED', 'ACTIVE')`),
  );
  const counts: Counts = { tasks: [], openRuns: 0, agents: [], heldLeases: 0 };
  for (const row of rows) {
    if (row.kind === "task") {
      if (row.key) counts.tasks.push([row.key, row.n]);
      else counts.openRuns = row.runs;
    } else if (row.kind === "agent" && row.key) {
      counts.agents.push([row.key, row.n]);
    } else if (row.kind === "leases") {
      counts.heldLeases = row.n;
    }
  }
  return counts;
}
