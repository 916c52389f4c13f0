import type postgres from "postgres";

/**
 * A transaction whose BEGIN shares a round trip with its first statement.
 *
 * postgres.js's `begin` waits for BEGIN's answer before it runs the
 * callback: one of the five round trips of a chain's hand-off. On a
 * reserved connection statements run in the order they are sent, so
 * BEGIN can go out unanswered and the callback's first statement right
 * behind it. BEGIN fails only when the connection does, and then every
 * statement behind it fails too.
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
    const opened = reserved.unsafe("begin").execute();
    // Its error, if any, is thrown below once the callback is done.
    opened.catch(() => {});
    let result: T;
    try {
      result = await work(wrap(reserved));
      await opened;
    } catch (error) {
      // The rollback follows every statement still in flight.
      await reserved.unsafe("rollback").catch(() => {});
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
