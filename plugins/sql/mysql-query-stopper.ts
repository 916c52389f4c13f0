import mysql, { type Connection, type ConnectionOptions } from "mysql2";
import { redact } from "./connection-target.js";
import { simpleQuery } from "./mysql-simple-query.js";
import { SqlFailure } from "./sql-failure.js";
import type { StatementRequest } from "./statement-request.js";

/**
 * Stops the running statement when the attempt aborts or the statement
 * timeout passes: `KILL QUERY` from a second connection, then, if the
 * statement has not ended within the grace, the connection is cut.
 */
export class QueryStopper {
  private reason: "timeout" | "stopped" | undefined;
  private timer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly onAbort = () => this.stop("stopped");
  private readonly cutter = new AbortController();
  /** Aborted when the connection is cut under a statement. */
  readonly cut = this.cutter.signal;
  private killing: Promise<void> | undefined;
  private settled = false;

  constructor(
    private readonly connection: Connection,
    private readonly options: ConnectionOptions,
    private readonly request: StatementRequest,
  ) {}

  arm(): void {
    const { signal, statementTimeoutMs } = this.request;
    if (signal.aborted) {
      this.reason = "stopped";
      this.throwIfStopped();
    }
    signal.addEventListener("abort", this.onAbort, { once: true });
    if (statementTimeoutMs !== undefined) {
      this.timer = setTimeout(() => this.stop("timeout"), statementTimeoutMs);
    }
  }

  /**
   * Stops watching, and waits (at most the grace) for a KILL QUERY in
   * flight, so that its news is logged while the attempt still runs.
   */
  async settle(): Promise<void> {
    this.request.signal.removeEventListener("abort", this.onAbort);
    clearTimeout(this.timer);
    clearTimeout(this.graceTimer);
    if (this.killing !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.request.cancelGraceMs);
      });
      await Promise.race([this.killing, grace]);
      clearTimeout(timer);
    }
    this.settled = true;
  }

  /** Throws the failure for a statement that was stopped, if it was. */
  throwIfStopped(): void {
    if (this.reason === "timeout") {
      throw new SqlFailure("timeout", "the statement timeout elapsed");
    }
    if (this.reason === "stopped") {
      throw new SqlFailure("stopped", "the statement was stopped");
    }
  }

  private stop(reason: "timeout" | "stopped"): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    clearTimeout(this.timer);
    const id = this.connection.threadId;
    this.graceTimer = setTimeout(() => {
      this.request.log.warn("statement did not stop; closing its connection", {
        connection_id: id,
      });
      this.connection.destroy();
      this.cutter.abort(new SqlFailure("connection", "connection cut"));
    }, this.request.cancelGraceMs);
    const { log, target } = this.request;
    this.killing = killQuery(this.options, id).then(
      () => {
        if (!this.settled) log.info("statement killed", { connection_id: id });
      },
      (error: Error) => {
        if (this.settled) return;
        log.warn("KILL QUERY failed", {
          connection_id: id,
          message: redact(error.message, target.secrets),
        });
      },
    );
  }
}

/** `KILL QUERY` for the connection `id`, from a connection of its own. */
async function killQuery(options: ConnectionOptions, id: number) {
  if (!Number.isSafeInteger(id)) throw new Error(`bad connection id ${id}`);
  const killer = mysql.createConnection(options);
  killer.on("error", () => undefined);
  try {
    // The id is the server's own integer, never a task's value.
    await simpleQuery(killer, `KILL QUERY ${id}`);
  } finally {
    killer.end();
  }
}
