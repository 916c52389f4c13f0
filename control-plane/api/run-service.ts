import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Clock, Logger } from "../../core/index.js";
import {
  ExplainTaskResponseSchema,
  GetRunResponseSchema,
  GetTaskResponseSchema,
  ListRunsResponseSchema,
  type RunService,
  RunState,
  RunView,
  StartRunResponseSchema,
  TaskState,
} from "../../gen/deerflow/v1/run_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import {
  findLoneSurrogate,
  findNul,
  LONE_SURROGATE_MESSAGE,
  NUL_MESSAGE,
} from "../../workflow/index.js";
import { type Db, runs } from "../db/index.js";
import type { Dispatcher } from "../dispatch/dispatcher.js";
import type { RunEventHub } from "../events/run-event-hub.js";
import { findTaskState } from "../logs/find-task-state.js";
import { followTaskLogs } from "../logs/follow-task-logs.js";
import { readTaskLogs, taskLogQuery } from "../logs/read-task-logs.js";
import { readTaskMetrics } from "../logs/read-task-metrics.js";
import { cancelRun } from "../runs/cancel-run.js";
import { explainTask } from "../runs/explain-task.js";
import { killTask } from "../runs/kill-task.js";
import { retryTasks } from "../runs/retry-tasks.js";
import {
  loadRun,
  loadTasks,
  runViewColumns,
  taskCounts,
  toRun,
} from "../runs/run-view.js";
import { IdempotencyKeyReusedError } from "../scheduler/idempotent-start.js";
import { type StartedRun, startRun } from "../scheduler/start-run.js";
import type { RunStateName } from "../scheduler/states.js";
import { definitionError } from "../workflows/read-definition.js";
import {
  type ResolvedWorkflow,
  resolveWorkflowRef,
} from "../workflows/resolve-workflow-ref.js";
import { loadTaskTypeCatalog } from "../workflows/task-type-catalog.js";
import { checkRequestDefinition } from "./check-request-definition.js";
import { invalidArgument, requireUuid } from "./connect-errors.js";
import { decodeRunPageToken, encodeRunPageToken } from "./run-page-token.js";
import { watchRun } from "./watch-run.js";

export interface RunServiceDeps {
  db: Db;
  clock: Clock;
  hub: RunEventHub;
  /** Wakes log followers: on a run's events and its stored log lines. */
  logHub: RunEventHub;
  /** Hands a new run's first tasks to an agent of this replica. */
  dispatcher?: Pick<Dispatcher, "handOffToAny">;
  /** Where watches say they went on past a writer left open. */
  logger?: Logger;
}

const MAX_PAGE = 500;
const DEFAULT_PAGE = 50;

/**
 * RunService: start, read, list, cancel, retry and watch runs; read,
 * kill, retry and explain tasks; read and follow task logs, and read
 * task metrics.
 */
export function createRunService(
  deps: RunServiceDeps,
): Partial<ServiceImpl<typeof RunService>> {
  const { db, clock } = deps;
  return {
    async startRun(req) {
      const tasks = withTasks(req.view);
      const params = (req.params ?? {}) as JsonObject;
      const nul = findNul(params);
      if (nul !== undefined) throw invalidArgument(`params${nul}`, NUL_MESSAGE);
      // JSON can spell a lone surrogate; PostgreSQL refuses it as text.
      const lone = findLoneSurrogate(params);
      if (lone !== undefined) {
        throw invalidArgument(`params${lone}`, LONE_SURROGATE_MESSAGE);
      }
      checkIdempotencyKey(req.idempotencyKey);
      const catalog = await loadTaskTypeCatalog(db);
      // A registered workflow by name and version, or else the inline
      // definition; no workflow at all is a missing definition
      // (InvalidArgument naming it, from the check).
      let workflow: ResolvedWorkflow;
      if (req.workflow.case === "workflowRef") {
        workflow = await resolveWorkflowRef(
          db,
          req.workflow.value,
          catalog,
          params,
        );
      } else {
        const check = checkRequestDefinition(
          req.workflow.value,
          catalog,
          params,
        );
        if (!check.ok) throw definitionError(check.problems);
        workflow = { definition: check.definition, version: 0 };
      }
      // The run's first tasks are claimed in its own transaction, for
      // the agent here with the most room (eager dispatch).
      const handOff = deps.dispatcher?.handOffToAny();
      let started: StartedRun;
      try {
        started = await startRun(
          db,
          {
            definition: workflow.definition,
            params: { ...workflow.definition.params, ...params },
            workflowVersion: workflow.version,
            pinnedVersion:
              req.workflow.case === "workflowRef"
                ? req.workflow.value.version
                : 0,
            idempotencyKey: req.idempotencyKey,
          },
          new Date(clock.now()),
          handOff?.send,
        );
      } catch (error) {
        await handOff?.finish(false);
        if (error instanceof IdempotencyKeyReusedError) {
          throw new ConnectError(error.message, Code.AlreadyExists);
        }
        throw error;
      }
      await handOff?.finish(true);
      const run = await loadRun(db, started.runId, tasks);
      return create(StartRunResponseSchema, { run, created: started.created });
    },

    async getRun(req) {
      const runId = requireUuid("run_id", req.runId);
      const run = await loadRun(db, runId, withTasks(req.view));
      if (!run) throw new ConnectError(`run ${runId} not found`, Code.NotFound);
      return create(GetRunResponseSchema, { run });
    },

    async listRuns(req) {
      const size = pageSize(req.pageSize);
      const after = req.pageToken
        ? decodeRunPageToken(req.pageToken)
        : undefined;
      const states = req.states.map((s) => RunState[s] as RunStateName);
      const rows = await db
        .select(runViewColumns)
        .from(runs)
        .where(
          and(
            states.length > 0 ? inArray(runs.state, states) : undefined,
            req.workflowName
              ? eq(runs.workflowName, req.workflowName)
              : undefined,
            after
              ? sql`(${runs.createdAt}, ${runs.id}) < (${after.createdAt.toISOString()}::timestamptz, ${after.id}::uuid)`
              : undefined,
          ),
        )
        .orderBy(desc(runs.createdAt), desc(runs.id))
        .limit(size + 1);
      const page = rows.slice(0, size);
      const counts = await taskCounts(
        db,
        page.map((r) => r.id),
      );
      const last = page.at(-1);
      return create(ListRunsResponseSchema, {
        runs: page.map((r) => toRun(r, counts.get(r.id) ?? {})),
        nextPageToken:
          rows.length > size && last ? encodeRunPageToken(last) : "",
      });
    },

    async cancelRun(req) {
      const runId = requireUuid("run_id", req.runId);
      checkReason(req.reason);
      const outcome = await cancelRun(
        db,
        runId,
        req.reason,
        new Date(clock.now()),
      );
      if (outcome === "not_found") {
        throw new ConnectError(`run ${runId} not found`, Code.NotFound);
      }
      return { run: await loadRun(db, runId, true) };
    },

    async getTask(req) {
      const runId = requireUuid("run_id", req.runId);
      if (req.taskId === "") throw invalidArgument("task_id", "is required");
      const [task] = await loadTasks(db, runId, req.taskId);
      if (!task) {
        throw new ConnectError(
          `task ${req.taskId} of run ${runId} not found`,
          Code.NotFound,
        );
      }
      return create(GetTaskResponseSchema, { task });
    },

    async killTask(req) {
      const { runId, taskId } = taskRef(req);
      checkReason(req.reason);
      const now = new Date(clock.now());
      const outcome = await killTask(db, runId, taskId, req.reason, now);
      if (outcome.kind === "not_found") throw taskNotFound(runId, taskId);
      if (outcome.kind === "already_finished") {
        throw new ConnectError(
          `task_id: task ${taskId} already ended ${outcome.state}`,
          Code.FailedPrecondition,
        );
      }
      const [task] = await loadTasks(db, runId, taskId);
      return { task };
    },

    async retryTask(req) {
      const { runId, taskId } = taskRef(req);
      const now = new Date(clock.now());
      const outcome = await retryTasks(db, runId, { taskId }, now);
      if (outcome.kind === "not_found") throw taskNotFound(runId, taskId);
      if (outcome.kind === "not_retryable") {
        throw new ConnectError(outcome.message, Code.FailedPrecondition);
      }
      const [task] = await loadTasks(db, runId, taskId);
      return { task };
    },

    async retryRun(req) {
      const runId = requireUuid("run_id", req.runId);
      const now = new Date(clock.now());
      const outcome = await retryTasks(db, runId, "failed", now);
      if (outcome.kind === "not_found") {
        throw new ConnectError(`run ${runId} not found`, Code.NotFound);
      }
      if (outcome.kind === "not_retryable") {
        throw new ConnectError(outcome.message, Code.FailedPrecondition);
      }
      return { run: await loadRun(db, runId, true) };
    },

    async explainTask(req) {
      const { runId, taskId } = taskRef(req);
      const now = new Date(clock.now());
      const explained = await explainTask(db, runId, taskId, now);
      if (!explained) {
        // Says whether the run or only the task is unknown.
        await findTaskState(db, runId, taskId);
        throw taskNotFound(runId, taskId);
      }
      return create(ExplainTaskResponseSchema, {
        state: TaskState[explained.state],
        summary: explained.summary,
        agents: explained.agents,
      });
    },

    async getTaskLogs(req) {
      const query = taskLogQuery(req);
      await findTaskState(db, query.runId, query.taskId);
      return { lines: await readTaskLogs(db, query) };
    },

    followTaskLogs: (req, ctx) =>
      followTaskLogs({ db, hub: deps.logHub }, req, ctx.signal),

    async getTaskMetrics(req) {
      const { runId, taskId } = taskRef(req);
      await findTaskState(db, runId, taskId);
      return { points: await readTaskMetrics(db, runId, taskId) };
    },

    async *watchRun(req, ctx) {
      yield* watchRun(deps, req.runId, eventNumber(req.afterSequence), ctx);
    },
  };
}

/** WatchRun's after_sequence: an event's number, or zero for all. */
function eventNumber(afterSequence: bigint): number {
  if (afterSequence < 0n) {
    throw invalidArgument("after_sequence", "must not be negative");
  }
  if (afterSequence > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidArgument(
      "after_sequence",
      `must be at most ${Number.MAX_SAFE_INTEGER}, the largest event number`,
    );
  }
  return Number(afterSequence);
}

/** The longest idempotency key, in characters. */
const MAX_IDEMPOTENCY_KEY = 256;

/** Empty means none; anything else must be storable and meant. */
function checkIdempotencyKey(key: string): void {
  if (key === "") return;
  if (key.length > MAX_IDEMPOTENCY_KEY) {
    throw invalidArgument(
      "idempotency_key",
      `must be at most ${MAX_IDEMPOTENCY_KEY} characters, got ${key.length}`,
    );
  }
  if (key.trim() === "") {
    throw invalidArgument("idempotency_key", "must not be only whitespace");
  }
  if (findNul(key) !== undefined) {
    throw invalidArgument("idempotency_key", NUL_MESSAGE);
  }
  if (findLoneSurrogate(key) !== undefined) {
    throw invalidArgument("idempotency_key", LONE_SURROGATE_MESSAGE);
  }
}

/** A cancel's or kill's reason: stored as text, so PostgreSQL's kind. */
function checkReason(reason: string): void {
  if (findNul(reason) !== undefined) {
    throw invalidArgument("reason", NUL_MESSAGE);
  }
  if (findLoneSurrogate(reason) !== undefined) {
    throw invalidArgument("reason", LONE_SURROGATE_MESSAGE);
  }
}

/** The run and task an RPC names, checked. */
function taskRef(req: { runId: string; taskId: string }) {
  const runId = requireUuid("run_id", req.runId);
  if (req.taskId === "") throw invalidArgument("task_id", "is required");
  return { runId, taskId: req.taskId };
}

function taskNotFound(runId: string, taskId: string): ConnectError {
  return new ConnectError(
    `task ${taskId} of run ${runId} not found`,
    Code.NotFound,
  );
}

/** Whether an answer in `view` carries the run's tasks. */
function withTasks(view: RunView): boolean {
  switch (view) {
    case RunView.UNSPECIFIED:
    case RunView.FULL:
      return true;
    case RunView.BASIC:
      return false;
    default:
      throw invalidArgument(
        "view",
        `unknown view ${view}; expected RUN_VIEW_BASIC or RUN_VIEW_FULL`,
      );
  }
}

function pageSize(requested: number): number {
  if (requested < 0) throw invalidArgument("page_size", "must not be negative");
  return Math.min(requested || DEFAULT_PAGE, MAX_PAGE);
}
