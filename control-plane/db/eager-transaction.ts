import type postgres from "postgres";

/**
 * A transaction whose BEGIN shares a round trip with its first statements.
 *
 * postgres.js's `begin` waits for BEGIN's answer before it runs the
 * callback: one of the five round trips of a chain's hand-off. Here the
 * callback runs at once, on a reserved connection; the statements it
 * sends before it first waits (its first round trip, usually one or two
 * pipelined statements) go out behind BEGIN as one batch, under a single
 * Sync. If BEGIN fails (a cancel request can hit it while the connection
 * lives on), PostgreSQL runs nothing after it up to that Sync: no
 * statement ever runs outside the transaction. A statement the callback
 * sends while that batch is in flight waits for its answer.
 *
 * Statements go out in the order the callback sends them, so it may
 * return while some are unanswered: COMMIT follows them, in their round
 * trip.
 *
 * COMMIT's answer says whether the server committed: a statement that
 * failed unawaited leaves the transaction aborted, and COMMIT then
 * answers ROLLBACK, which throws here as it does in postgres.js.
 */
export async function eagerTransaction<T>(
  client: postgres.Sql,
  work: (tx: postgres.ReservedSql) => Promise<T>,
  wrap: (reserved: postgres.ReservedSql) => postgres.ReservedSql = (reserved) =>
    reserved,
): Promise<T> {
  const reserved = await client.reserve();
  try {
    const opening = new Opening(reserved, wrap(reserved));
    let result: T;
    try {
      result = await work(opening.sql);
      if (!(await opening.opened())) return result;
    } catch (error) {
      // The rollback follows every statement sent. When it fails too,
      // release() closes the connection rather than pool it
      // mid-transaction.
      if (await opening.settled()) {
        await reserved.unsafe("rollback").catch(() => {});
      }
      throw error;
    }
    const done = await reserved.unsafe("commit");
    if (done.command !== "COMMIT") {
      throw new TransactionRolledBackError();
    }
    return result;
  } finally {
    reserved.release();
  }
}

/** COMMIT answered ROLLBACK: a statement of the transaction had failed. */
export class TransactionRolledBackError extends Error {
  readonly code = "TRANSACTION_ROLLED_BACK";
  constructor() {
    super(
      "the server rolled back the transaction instead of committing it (a statement in it failed)",
    );
    this.name = "TransactionRolledBackError";
  }
}

/** A postgres.js query, as far as the transaction needs to know it. */
interface Statement extends PromiseLike<unknown> {
  execute(): unknown;
  values(): Statement;
  raw(): Statement;
}

function isStatement(value: unknown): value is Statement {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Statement).execute === "function" &&
    typeof (value as Statement).then === "function"
  );
}

/**
 * A transaction being opened: collects the statements of the callback's
 * first round trip, then sends BEGIN and them as one batch.
 */
class Opening {
  /** The client the callback gets: statements go through `send`. */
  readonly sql: postgres.ReservedSql;
  /** Whether BEGIN was sent (the callback sent a statement). */
  began = false;
  /** Whether BEGIN and the first statements were answered, and succeeded. */
  private answered = false;
  private collected: Statement[] = [];
  /** Settles with BEGIN and the first statements' batch. */
  private batch: Promise<void> | undefined;
  private flushed!: () => void;
  /** Resolves once the batch is sent (its statements marked executed). */
  private readonly sent = new Promise<void>((resolve) => {
    this.flushed = resolve;
  });

  constructor(
    private readonly reserved: postgres.ReservedSql,
    statements: postgres.ReservedSql,
  ) {
    const send = (query: unknown) =>
      isStatement(query) ? this.send(query) : query;
    this.sql = new Proxy(statements, {
      apply: (target, self, args) =>
        send(Reflect.apply(target as never, self, args)),
      get: (target, key, receiver) => {
        const value = Reflect.get(target, key, receiver);
        if (key !== "unsafe" || typeof value !== "function") return value;
        return (...args: unknown[]) =>
          send((value as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
  }

  /**
   * Waits for BEGIN's answer; false when the callback sent nothing (so
   * there is nothing to commit). Throws BEGIN's error.
   */
  async opened(): Promise<boolean> {
    if (!this.began) return false;
    await this.flush();
    return true;
  }

  /**
   * Sends what is collected and waits for the batch, whatever its
   * outcome; false when the callback sent nothing.
   */
  async settled(): Promise<boolean> {
    if (!this.began) return false;
    await this.flush().catch(() => {});
    return true;
  }

  private send(statement: Statement): Statement {
    if (this.batch === undefined) {
      this.collected.push(statement);
      if (!this.began) {
        this.began = true;
        // After the callback's current turn: every statement it sends
        // before it waits joins the batch.
        setImmediate(() => void this.flush().catch(() => {}));
      }
      return gated(statement, this.sent, () => this.batch);
    }
    // Later statements go out in the order the callback sends them, at
    // once (postgres.js would wait until the statement is awaited): a
    // COMMIT sent behind statements still unanswered follows them.
    if (this.answered) {
      statement.execute();
      return statement;
    }
    const sent = this.batch.then(() => {
      statement.execute();
    });
    sent.catch(() => {});
    return gated(statement, sent);
  }

  /** Sends BEGIN and the collected statements, once; their outcome. */
  private flush(): Promise<void> {
    if (this.batch !== undefined) return this.batch;
    const begin = this.reserved.unsafe("begin", [], { simple: false });
    const queries = [begin, ...this.collected] as never[];
    this.collected = [];
    const batch = this.reserved.batch(queries);
    this.batch = Promise.resolve(batch).then(() => {
      this.answered = true;
    });
    // Its error reaches the callback through its statements, and the
    // caller through opened().
    this.batch.catch(() => {});
    this.flushed();
    return this.batch;
  }
}

/**
 * `statement`, answered once `gate` settles: after its batch is sent, or
 * after it was sent behind the batch in flight (and not at all when that
 * failed). `batch`, for a statement of the first batch, gives that
 * batch's outcome once sent.
 */
function gated(
  statement: Statement,
  gate: Promise<void>,
  batch?: () => Promise<void> | undefined,
): Statement {
  const wrapper: Statement = {
    execute: () => wrapper,
    values: () => {
      statement.values();
      return wrapper;
    },
    raw: () => {
      statement.raw();
      return wrapper;
    },
    // biome-ignore lint/suspicious/noThenProperty: it is a query, awaited as one
    then: (fulfilled, rejected) =>
      gate.then(() => answerOf(statement, batch?.())).then(fulfilled, rejected),
  };
  return wrapper;
}

/**
 * A statement's answer, or its batch's error: postgres.js (4.2.0) leaves
 * the statements of a batch pending for ever when the batch fails at
 * once because its connection had closed (a backend terminated between
 * the reserve and the batch), and a transaction awaiting one would hang.
 */
function answerOf(
  statement: Statement,
  batch: Promise<void> | undefined,
): Promise<unknown> {
  const answer = Promise.resolve(statement);
  if (batch === undefined) return answer;
  return Promise.race([answer, batch.then(() => answer)]);
}
