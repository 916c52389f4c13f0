/**
 * Helpers for the control plane's storage tests: a fresh database per
 * test on each backend, plain definitions, and short ways to claim and
 * finish tasks through the real code paths.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import { afterEach, beforeEach } from "vitest";
import { silentLogger } from "../core/index.js";
import type { TestBackend } from "../test/support/test-database.js";
import type { TaskDefinition, WorkflowDefinition } from "../workflow/index.js";
import {
  type Database,
  type Db,
  openDatabase,
  rowsOf,
  runEvents,
  runs,
  tasks,
} from "./db/index.js";
import {
  type ClaimedAssignment,
  type ClaimingAgent,
  claimTasks,
} from "./dispatch/claim-tasks.js";
import {
  type AttemptResult,
  type ResultVerdict,
  recordResult,
} from "./leases/record-result.js";
import { type StartedRun, startRun } from "./scheduler/start-run.js";
import type { RunStateName, TaskStateName } from "./scheduler/states.js";

/** The lease timings the tests claim with. */
export const LEASE_TTL_MS = 30_000;
export const ACK_DEADLINE_MS = 10_000;

const T0 = Date.parse("2026-01-01T00:00:00.000Z");

/** A fixed instant `seconds` after the tests' epoch; time never runs. */
export function at(seconds: number): Date {
  return new Date(T0 + seconds * 1000);
}

/** One test's database, opened before and dropped after each test. */
export interface TestDb {
  readonly database: Database;
  readonly db: Db;
  /** Opens another handle (its own pool) on the same database. */
  openAnother(): Promise<Database>;
}

/**
 * Registers hooks that give every test of the enclosing `describe` a
 * freshly migrated database on `backend`, closed and dropped afterwards
 * with every extra handle the test opened.
 */
export function useTestDatabase(backend: TestBackend): TestDb {
  let current: Database | undefined;
  let cleanup: (() => Promise<void>)[] = [];
  let open: (() => Promise<Database>) | undefined;
  beforeEach(async () => {
    const created = await backend.create();
    cleanup.push(() => created.drop());
    open = async () => {
      const opened = await openDatabase({
        url: created.url,
        dataDir: created.dataDir,
        logger: silentLogger(),
      });
      cleanup.push(() => opened.close());
      return opened;
    };
    current = await open();
  });
  afterEach(async () => {
    const steps = cleanup.reverse();
    cleanup = [];
    current = undefined;
    for (const step of steps) await step();
  });
  const need = (): Database => {
    if (!current) throw new Error("the test database is not open");
    return current;
  };
  return {
    get database() {
      return need();
    },
    get db() {
      return need().db;
    },
    openAnother() {
      if (!open || backend.name === "pglite") {
        // PGlite is one connection in one process; a second handle on its
        // data directory would corrupt it.
        throw new Error("another handle needs PostgreSQL");
      }
      return open();
    },
  };
}

/** A shell task with no upstream unless `extra` says otherwise. */
export function task(
  id: string,
  extra: Partial<TaskDefinition> = {},
): TaskDefinition {
  return {
    id,
    type: "shell",
    depends_on: [],
    config: { command: `echo ${id}` },
    node_selector: {},
    priority: 0,
    ...extra,
  };
}

/** A workflow named "wf" with these tasks and no params. */
export function workflow(...taskList: TaskDefinition[]): WorkflowDefinition {
  return { name: "wf", params: {}, tasks: taskList };
}

/** Starts a run of `definition` at `now`. */
export function start(
  db: Db,
  definition: WorkflowDefinition,
  now: Date = at(0),
  idempotencyKey?: string,
): Promise<StartedRun> {
  return startRun(
    db,
    {
      definition,
      params: definition.params,
      workflowVersion: 0,
      idempotencyKey,
    },
    now,
  );
}

/** An agent that runs shell tasks and carries these labels. */
export function agent(
  agentId = "agent-1",
  labels: Record<string, string> = {},
  taskTypes: readonly string[] = ["shell"],
): ClaimingAgent {
  return { agentId, labels, taskTypes };
}

/** Claims up to `limit` tasks for `who` in one transaction. */
export async function claim(
  db: Db,
  who: ClaimingAgent,
  now: Date = at(1),
  limit = 100,
): Promise<ClaimedAssignment[]> {
  const { assignments } = await db.transaction((tx) =>
    claimTasks(tx, who, {
      limit,
      leaseTtlMs: LEASE_TTL_MS,
      ackDeadlineMs: ACK_DEADLINE_MS,
      now,
    }),
  );
  return assignments;
}

/** Leases claimed in one go, by task id. */
export interface Claimed {
  /** The task ids claimed, sorted. */
  readonly ids: string[];
  /** The lease on this task; throws when it was not claimed. */
  get(taskId: string): ClaimedAssignment;
}

/**
 * Claims every queued task `who` fits, for tests whose runs have distinct
 * task ids.
 */
export async function claimAll(
  db: Db,
  now: Date = at(1),
  who: ClaimingAgent = agent(),
): Promise<Claimed> {
  const byId = new Map<string, ClaimedAssignment>();
  for (const lease of await claim(db, who, now)) {
    if (byId.has(lease.taskId)) {
      throw new Error(`two claimed tasks are named ${lease.taskId}`);
    }
    byId.set(lease.taskId, lease);
  }
  const ids = [...byId.keys()].sort();
  return {
    ids,
    get(taskId) {
      const found = byId.get(taskId);
      if (!found) {
        throw new Error(`${taskId} was not claimed (claimed: ${ids})`);
      }
      return found;
    },
  };
}

/** Reports an attempt's result as the agent that holds its lease. */
export function report(
  db: Db,
  lease: ClaimedAssignment,
  outcome: Partial<AttemptResult> = {},
  now: Date = at(2),
  agentId = "agent-1",
): Promise<ResultVerdict> {
  return recordResult(
    db,
    agentId,
    {
      leaseId: lease.leaseId,
      fencingToken: lease.fencingToken,
      outcome: "SUCCESS",
      error: "",
      retryable: true,
      retryClass: "",
      ...outcome,
    },
    now,
  );
}

/** A failed attempt the agent reports, as `report` takes it. */
export function failure(
  error = "boom",
  extra: Partial<AttemptResult> = {},
): Partial<AttemptResult> {
  return {
    outcome: "FAILED",
    error,
    retryClass: "error",
    exitCode: 1,
    ...extra,
  };
}

/** Every task of a run by id: its state. */
export async function taskStates(
  db: Db,
  runId: string,
): Promise<Record<string, TaskStateName>> {
  const rows = await db
    .select({ taskId: tasks.taskId, state: tasks.state })
    .from(tasks)
    .where(eq(tasks.runId, runId));
  return Object.fromEntries(rows.map((r) => [r.taskId, r.state]));
}

/** One task's row. */
export async function taskRow(db: Db, runId: string, taskId: string) {
  const [row] = await db
    .select()
    .from(tasks)
    .where(and(eq(tasks.runId, runId), eq(tasks.taskId, taskId)));
  if (!row) throw new Error(`no task ${taskId} in run ${runId}`);
  return row;
}

/** The run's row. */
export async function runRow(db: Db, runId: string) {
  const [row] = await db.select().from(runs).where(eq(runs.id, runId));
  if (!row) throw new Error(`no run ${runId}`);
  return row;
}

/** The run's state. */
export async function runState(db: Db, runId: string): Promise<RunStateName> {
  return (await runRow(db, runId)).state;
}

/** A run's history as "task:STATE" (or "run:STATE") lines, in order. */
export async function history(db: Db, runId: string): Promise<string[]> {
  const rows = await db
    .select()
    .from(runEvents)
    .where(eq(runEvents.runId, runId))
    .orderBy(asc(runEvents.sequence));
  return rows.map((r) => `${r.taskId || "run"}:${r.state}`);
}

/** The one element of a list, or a failure that shows the list. */
export function only<T>(items: readonly T[]): T {
  const [item] = items;
  if (items.length !== 1 || item === undefined) {
    throw new Error(`expected one item, got ${items.length}`);
  }
  return item;
}

/** A subscription that resolves on the first payload a test waits for. */
export interface AwaitedNotification {
  /** The first payload that matched. */
  readonly received: Promise<string>;
  stop(): Promise<void>;
}

/**
 * Listens on a channel before the test acts, so that the payload the act
 * sends cannot be missed; the test awaits `received` and then `stop`s.
 */
export async function listenFor(
  database: Database,
  channel: string,
  matches: (payload: string) => boolean = () => true,
): Promise<AwaitedNotification> {
  let resolve: (payload: string) => void = () => {};
  const received = new Promise<string>((r) => {
    resolve = r;
  });
  const unlisten = await database.listen(channel, (payload) => {
    if (matches(payload)) resolve(payload);
  });
  return { received, stop: unlisten };
}

/**
 * Resolves once some session of this PostgreSQL database is blocked on
 * a lock: the moment a test that orders two transactions waits for.
 */
export async function untilALockIsAwaited(db: Db): Promise<void> {
  for (;;) {
    const [row] = rowsOf<{ n: number }>(
      await db.execute(sql`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`),
    );
    if ((row?.n ?? 0) > 0) return;
    // Polls the server's own view; nothing else announces a lock wait.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A transaction left open on purpose, and how to end it. */
export interface OpenTransaction {
  /** Lets it commit; resolves once it has. */
  end(): Promise<void>;
}

/**
 * Opens a transaction on `handle` that runs `work` and then stays open
 * until ended, as a slow claim or a person's psql session would; resolves
 * once `work` is done.
 */
export async function openTransaction(
  handle: Database,
  work: (tx: Db) => Promise<unknown>,
): Promise<OpenTransaction> {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let worked = () => {};
  const didWork = new Promise<void>((resolve) => {
    worked = resolve;
  });
  const done = handle.db.transaction(async (tx) => {
    await work(tx);
    worked();
    await released;
  });
  await Promise.race([didWork, done]);
  return {
    async end() {
      release();
      await done;
    },
  };
}
