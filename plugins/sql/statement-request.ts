import type { TaskLogger } from "../../plugin-sdk/index.js";
import type { BoundStatement } from "./bound-statement.js";
import type { ConnectionTarget } from "./connection-target.js";
import type { RowCollector } from "./row-collector.js";

/** What a driver runs: one statement on a connection of its own. */
export interface StatementRequest {
  target: ConnectionTarget;
  statement: BoundStatement;
  /** Run between BEGIN and COMMIT. */
  transaction: boolean;
  /** The server stops the statement after this long. */
  statementTimeoutMs: number | undefined;
  /** Receives every row the statement returns. */
  rows: RowCollector;
  /** Aborted on cancel, kill, timeout or a lost lease. */
  signal: AbortSignal;
  log: TaskLogger;
  /** Names the session on the server (PostgreSQL application_name). */
  applicationName: string;
  connectTimeoutMs: number;
  /** How long a stopped statement gets before its connection is cut. */
  cancelGraceMs: number;
}

/** How a statement went, when it succeeded. */
export interface StatementOutcome {
  /** Rows affected, or returned (all of them, kept or not). */
  rowCount: number;
  /** Column names in order; empty for a statement without rows. */
  columns: string[];
  /** Milliseconds from sending the statement to its last row. */
  durationMs: number;
}
