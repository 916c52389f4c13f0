import postgres from "postgres";
import type { ApiClients } from "../../cli/api-clients.js";
import { RunState } from "../../gen/deerflow/v1/run_pb.js";
import type { BenchDatabase } from "./bench-database.js";
import type { Cleanup } from "./cleanup.js";

/** A run's state as the harness polls it. */
export interface RunStatus {
  /** The RunState name without prefix: "RUNNING", "SUCCESS", ... */
  state: string;
  /** The run ended (SUCCESS, FAILED or CANCELLED). */
  done: boolean;
  /** Tasks in SUCCESS (only counted when asked). */
  succeeded?: number;
}

/**
 * Reads a run's state cheaply while it runs. On PostgreSQL it reads the
 * runs row directly (one index lookup, nothing for the control plane to
 * do); on PGlite, which only the server can open, it asks the API.
 */
export interface RunProbe {
  status(runId: string, countSucceeded?: boolean): Promise<RunStatus>;
  /** How many of these runs have ended. */
  endedCount(runIds: readonly string[]): Promise<number>;
  /** How often polling it is cheap enough, in milliseconds. */
  readonly intervalMs: number;
}

const ENDED = new Set(["SUCCESS", "FAILED", "CANCELLED"]);

/** A probe for the scenario's database. */
export function createRunProbe(
  cleanup: Cleanup,
  database: BenchDatabase,
  clients: ApiClients,
): RunProbe {
  if (database.url === undefined) return apiProbe(clients);
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  cleanup.defer("run probe connection", () => sql.end());
  return {
    intervalMs: 20,
    async status(runId, countSucceeded = false) {
      const [row] = await sql<{ state: string }[]>`
        SELECT state FROM runs WHERE id = ${runId}`;
      const state = row?.state ?? "UNKNOWN";
      const status: RunStatus = { state, done: ENDED.has(state) };
      if (countSucceeded) {
        const [count] = await sql<{ n: string }[]>`
          SELECT count(*) AS n FROM tasks
          WHERE run_id = ${runId} AND state = 'SUCCESS'`;
        status.succeeded = Number(count?.n ?? 0);
      }
      return status;
    },
    async endedCount(runIds) {
      const [row] = await sql<{ n: string }[]>`
        SELECT count(*) AS n FROM runs
        WHERE id = ANY(${[...runIds]}::uuid[])
          AND state IN ('SUCCESS', 'FAILED', 'CANCELLED')`;
      return Number(row?.n ?? 0);
    },
  };
}

function apiProbe(clients: ApiClients): RunProbe {
  return {
    intervalMs: 200,
    async status(runId) {
      // The newest run is the one a scenario waits for; ListRuns carries
      // its task counts without loading every task as GetRun would.
      const { runs } = await clients.runs.listRuns({ pageSize: 1 });
      let run = runs[0]?.id === runId ? runs[0] : undefined;
      run ??= (await clients.runs.getRun({ runId })).run;
      const state = run ? RunState[run.state] : "UNKNOWN";
      return {
        state,
        done: ENDED.has(state),
        succeeded: run?.taskCounts.SUCCESS ?? 0,
      };
    },
    async endedCount(runIds) {
      const wanted = new Set(runIds);
      let ended = 0;
      let pageToken = "";
      do {
        const page = await clients.runs.listRuns({
          pageSize: 500,
          pageToken,
          states: [RunState.SUCCESS, RunState.FAILED, RunState.CANCELLED],
        });
        ended += page.runs.filter((r) => wanted.has(r.id)).length;
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      return ended;
    },
  };
}
