/**
 * The control plane's tables. Every state lives here; replicas share it.
 * States are stored as the proto enum names without their prefix
 * ("QUEUED"), so a row reads the same as the API.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  pgView,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import type { JsonObject } from "../../plugin-sdk/index.js";
import type {
  AffinityExpression,
  ResourceRequest,
} from "../../workflow/index.js";
import type { AgentStateName } from "../agents/agent-state.js";
import type { AllocatedResourcesRow } from "../dispatch/agent-resources.js";
import type { LeaseStateName } from "../leases/lease-state.js";
import type {
  AttemptOutcomeName,
  RunStateName,
  TaskStateName,
} from "../scheduler/states.js";

const at = (name: string) => timestamp(name, { withTimezone: true });

/** Registered workflows, one row per version. */
export const workflows = pgTable(
  "workflows",
  {
    name: text().notNull(),
    version: integer().notNull(),
    digest: text().notNull(),
    definition: jsonb().$type<JsonObject>().notNull(),
    createdAt: at("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.name, t.version] })],
);

/** Runs: one execution of a workflow with concrete params. */
export const runs = pgTable(
  "runs",
  {
    id: uuid().primaryKey(),
    workflowName: text("workflow_name").notNull(),
    workflowVersion: integer("workflow_version").notNull().default(0),
    /** The normalized definition the run was started from. */
    definition: jsonb().$type<JsonObject>().notNull(),
    params: jsonb().$type<JsonObject>().notNull(),
    /**
     * The definition's `concurrency`, or null: copied out so that a claim
     * reads it without detoasting a definition of thousands of tasks.
     */
    concurrency: integer(),
    /**
     * When the run fails for its definition's `timeout` (counted from its
     * submission), or null: a column so that the sweep finds overdue runs
     * by index, where it read every unfinished run's definition twice a
     * second.
     */
    deadlineAt: at("deadline_at"),
    /**
     * Tasks made while the run ran: for_each children and dynamic tasks'
     * output. Bounded (MAX_MADE_TASKS), so that generators that make
     * generators cannot grow a run without end.
     */
    madeTasks: integer("made_tasks").notNull().default(0),
    state: text().$type<RunStateName>().notNull(),
    error: text().notNull().default(""),
    idempotencyKey: text("idempotency_key"),
    createdAt: at("created_at").notNull().defaultNow(),
    startedAt: at("started_at"),
    finishedAt: at("finished_at"),
  },
  (t) => [
    uniqueIndex("runs_idempotency_key").on(t.idempotencyKey),
    index("runs_created_at").on(t.createdAt),
    // Unfinished runs with a deadline, soonest first (time-out-runs.ts).
    index("runs_deadline")
      .on(t.deadlineAt)
      .where(sql`deadline_at IS NOT NULL AND state IN ('PENDING', 'RUNNING')`),
  ],
);

/** Tasks: the nodes of a run's DAG. */
export const tasks = pgTable(
  "tasks",
  {
    /**
     * Its run. No foreign key: a task is written only by a statement that
     * writes or locks its run in the same transaction, and runs are never
     * deleted, while the key's check cost PostgreSQL a lookup and a row
     * lock on the run for every task a StartRun inserts (about a fifth of
     * storing a run of 10,000 tasks).
     */
    runId: uuid("run_id").notNull(),
    taskId: text("task_id").notNull(),
    /** Index in the definition, so that views list tasks as written. */
    position: integer().notNull().default(0),
    /**
     * A generated task's place among the tasks its dynamic generator made,
     * after the generator's own: [2] for the third, [2, 0] for the first
     * that the third made in turn. Empty for tasks of the definition, and
     * for_each children keep their parent's.
     */
    generatedOrder: integer("generated_order")
      .array()
      .notNull()
      .default(sql`'{}'`),
    name: text().notNull().default(""),
    type: text().notNull(),
    state: text().$type<TaskStateName>().notNull(),
    dependsOn: text("depends_on").array().notNull(),
    /** The task's normalized definition, templates unrendered. */
    spec: jsonb().$type<JsonObject>().notNull(),
    priority: integer().notNull().default(0),
    nodeSelector: jsonb("node_selector")
      .$type<Record<string, string>>()
      .notNull(),
    /** The task's affinity expressions; null when it has none. */
    affinity: jsonb().$type<AffinityExpression[]>(),
    /**
     * Its `resources` in base units (millicores, bytes, GPUs), parsed at
     * StartRun; null when it asks for none, as most tasks do.
     */
    requests: jsonb().$type<ResourceRequest>(),
    maxAttempts: integer("max_attempts").notNull().default(1),
    attemptCount: integer("attempt_count").notNull().default(0),
    /** The fencing token of the latest lease; grows with every lease. */
    fencingToken: bigint("fencing_token", { mode: "number" })
      .notNull()
      .default(0),
    output: jsonb().$type<JsonObject>(),
    exitCode: integer("exit_code"),
    error: text().notNull().default(""),
    agentId: text("agent_id"),
    /** Not dispatched before this time (retry backoff). */
    notBefore: at("not_before"),
    createdAt: at("created_at").notNull().defaultNow(),
    queuedAt: at("queued_at"),
    startedAt: at("started_at"),
    finishedAt: at("finished_at"),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.taskId] }),
    // In the claim's exact order, so a claim reads queued tasks in order
    // and stops at its limit instead of sorting the whole queue.
    index("tasks_queued")
      .on(t.priority.desc(), t.queuedAt, t.runId, t.taskId)
      .where(sql`state = 'QUEUED'`),
    index("tasks_waiting").on(t.notBefore).where(sql`state = 'RETRY'`),
    // Queued tasks that ask for resources, in claim order: a claim
    // looks for the request it keeps resources for among the first of
    // these (waiting-request.ts).
    index("tasks_queued_requesting")
      .on(t.priority.desc(), t.queuedAt, t.runId, t.taskId)
      .where(sql`state = 'QUEUED' AND requests IS NOT NULL`),
    // The tasks still waiting on upstream: each advance looks among them
    // for the dependents of what just ended, not among the whole run.
    index("tasks_created").on(t.runId).where(sql`state = 'CREATED'`),
    // Whether a run has any task left to end, answered without reading
    // its finished ones: a run of 10,000 tasks asks after every result.
    index("tasks_open")
      .on(t.runId)
      .where(
        sql`state NOT IN ('SUCCESS', 'FAILED', 'KILLED', 'SKIPPED', 'UPSTREAM_FAILED')`,
      ),
    // A group's children still to end: whether any is left is a lookup
    // after each child ends, where reading all of them every time made a
    // group of n children cost n² rows. Holds group children only.
    index("tasks_open_children")
      .on(t.runId, sql`(${t.spec}->>'parent')`)
      .where(
        sql`spec ? 'parent' AND state NOT IN ('SUCCESS', 'FAILED', 'KILLED', 'SKIPPED', 'UPSTREAM_FAILED')`,
      ),
  ],
);

/** Attempts: each numbered try of a task. */
export const attempts = pgTable(
  "attempts",
  {
    runId: uuid("run_id").notNull(),
    taskId: text("task_id").notNull(),
    number: integer().notNull(),
    leaseId: uuid("lease_id").notNull(),
    fencingToken: bigint("fencing_token", { mode: "number" }).notNull(),
    agentId: text("agent_id").notNull(),
    outcome: text().$type<AttemptOutcomeName>(),
    exitCode: integer("exit_code"),
    error: text().notNull().default(""),
    retryClass: text("retry_class"),
    output: jsonb().$type<JsonObject>(),
    /** What its lease allocated of the agent, shown with the attempt. */
    resources: jsonb().$type<AllocatedResourcesRow>(),
    assignedAt: at("assigned_at").notNull().defaultNow(),
    startedAt: at("started_at"),
    finishedAt: at("finished_at"),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.taskId, t.number] }),
    uniqueIndex("attempts_lease_id").on(t.leaseId),
  ],
);

/** Leases: time-bound, fenced ownership of one attempt by one agent. */
export const leases = pgTable(
  "leases",
  {
    id: uuid().primaryKey(),
    runId: uuid("run_id").notNull(),
    taskId: text("task_id").notNull(),
    attempt: integer().notNull(),
    agentId: text("agent_id").notNull(),
    fencingToken: bigint("fencing_token", { mode: "number" }).notNull(),
    state: text().$type<LeaseStateName>().notNull(),
    /** Lifetime without renewal: the server's TTL or the task's lost_after. */
    ttlMs: integer("ttl_ms").notNull(),
    grantedAt: at("granted_at").notNull().defaultNow(),
    ackDeadlineAt: at("ack_deadline_at").notNull(),
    expiresAt: at("expires_at").notNull(),
    releasedAt: at("released_at"),
    /**
     * When the holder of a REVOKED lease confirmed its attempt had
     * stopped. Until then, or until the lease would have expired, the
     * task is not handed out again: a retry never runs beside the attempt
     * it replaces.
     */
    stoppedAt: at("stopped_at"),
    /** What the attempt was allocated of the agent; null for none. */
    resources: jsonb().$type<AllocatedResourcesRow>(),
  },
  (t) => [
    index("leases_held_by_agent")
      .on(t.agentId)
      .where(sql`state IN ('GRANTED', 'ACTIVE')`),
    index("leases_expiry")
      .on(t.expiresAt)
      .where(sql`state IN ('GRANTED', 'ACTIVE')`),
    // Allocations still in use on each agent: what its claims subtract
    // from what it has.
    index("leases_allocated")
      .on(t.agentId)
      .where(
        sql`resources IS NOT NULL AND state IN ('GRANTED', 'ACTIVE', 'REVOKED') AND stopped_at IS NULL`,
      ),
    index("leases_revoked_running")
      .on(t.runId, t.taskId)
      .where(sql`state = 'REVOKED' AND stopped_at IS NULL`),
  ],
);

/** Agents that have ever said hello, with what they advertised. */
export const agents = pgTable("agents", {
  id: text().primaryKey(),
  name: text().notNull(),
  /** Declared and detected labels merged; what selectors match against. */
  labels: jsonb().$type<Record<string, string>>().notNull(),
  detectedLabels: jsonb("detected_labels")
    .$type<Record<string, string>>()
    .notNull(),
  resources: jsonb().$type<JsonObject>().notNull(),
  slots: integer().notNull(),
  taskTypes: jsonb("task_types").$type<JsonObject[]>().notNull(),
  version: text().notNull().default(""),
  state: text().$type<AgentStateName>().notNull(),
  cordoned: boolean().notNull().default(false),
  sessionId: text("session_id"),
  replicaId: text("replica_id"),
  /**
   * The process token of the agent process whose hello made the session
   * (Hello.process_token); null for agents that send none.
   */
  processToken: text("process_token"),
  connectedAt: at("connected_at"),
  lastHeartbeatAt: at("last_heartbeat_at"),
  createdAt: at("created_at").notNull().defaultNow(),
});

/**
 * Control-plane replicas and when each was last seen sweeping. When none
 * was seen for a while, a starting replica credits that downtime to every
 * held lease: lease expiry does not count time with no control plane up.
 */
export const replicas = pgTable("replicas", {
  id: text().primaryKey(),
  startedAt: at("started_at").notNull(),
  lastSeenAt: at("last_seen_at").notNull(),
});

/**
 * Every state change of a run and its tasks, in order, written a batch
 * per statement and run: a claim's 256 ASSIGNED events are one row, not
 * 256. Each batch holds its events' varying fields side by side, in
 * order; an event's own number is its batch's sequence times
 * EVENT_NUMBERS_PER_BATCH plus its place in the batch (see
 * {@link runEvents}). A run of n tasks has about 4n events; as rows of
 * their own (a heap tuple and an index entry apiece) they were a fifth
 * of a task's WAL and took 25 times the room (bench/README.md).
 */
export const runEventBatches = pgTable(
  "run_event_batches",
  {
    /** Orders batches across runs; unique, but keyed with its run. */
    sequence: bigint({ mode: "number" }).notNull().generatedAlwaysAsIdentity(),
    runId: uuid("run_id").notNull(),
    /** When its statement's transaction began: every event's time. */
    time: at("time").notNull().defaultNow(),
    /** Per event; empty for a change of the run's own state. */
    taskIds: text("task_ids").array().notNull(),
    states: text().array().notNull(),
    attempts: integer().array().notNull(),
    agentIds: text("agent_ids").array().notNull(),
    errors: text().array().notNull(),
  },
  // Events are only ever read by run, in order.
  (t) => [primaryKey({ columns: [t.runId, t.sequence] })],
);

/**
 * The numbers each batch holds: an event's number is its batch's
 * sequence times this, plus its place (0 on). Batch 1234's fourth event
 * is 12,340,003.
 */
export const EVENT_NUMBERS_PER_BATCH = 10_000;

/**
 * At most this many events in a batch. A page of a watch reads whole
 * batches, up to 50 (read-run-events.ts): so a page holds at most 50,000
 * events, however a run's history was written.
 */
export const MAX_EVENTS_PER_BATCH = 1_000;

/**
 * One row per event, as readers want them: a view over
 * {@link runEventBatches} (migration 0016), in which `batch` is the
 * batch's own sequence. A reader that bounds `sequence` bounds `batch`
 * as well, so PostgreSQL reads only the batches in range.
 */
export const runEvents = pgView("run_events", {
  batch: bigint({ mode: "number" }).notNull(),
  sequence: bigint({ mode: "number" }).notNull(),
  runId: uuid("run_id").notNull(),
  time: at("time").notNull(),
  taskId: text("task_id").notNull(),
  state: text().notNull(),
  attempt: integer().notNull(),
  agentId: text("agent_id").notNull(),
  error: text().notNull(),
}).existing();

/** Task log lines, per attempt. */
export const taskLogs = pgTable(
  "task_logs",
  {
    runId: uuid("run_id").notNull(),
    taskId: text("task_id").notNull(),
    attempt: integer().notNull(),
    sequence: bigint({ mode: "number" }).notNull(),
    time: at("time").notNull(),
    stream: text().notNull(),
    level: text().notNull().default(""),
    message: text().notNull(),
    fields: jsonb().$type<JsonObject>(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.taskId, t.attempt, t.sequence] })],
);

/** Task metric points, per attempt. */
export const taskMetrics = pgTable(
  "task_metrics",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    runId: uuid("run_id").notNull(),
    taskId: text("task_id").notNull(),
    attempt: integer().notNull(),
    name: text().notNull(),
    kind: text().notNull(),
    value: doublePrecision().notNull(),
    labels: jsonb().$type<Record<string, string>>().notNull(),
    time: at("time").notNull(),
  },
  (t) => [index("task_metrics_task").on(t.runId, t.taskId)],
);

/** Secrets, encrypted at rest. Values never leave through the API. */
export const secrets = pgTable("secrets", {
  name: text().primaryKey(),
  ciphertext: text().notNull(),
  createdAt: at("created_at").notNull().defaultNow(),
  updatedAt: at("updated_at").notNull().defaultNow(),
});
