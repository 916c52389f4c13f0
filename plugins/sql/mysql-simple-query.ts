import type { Connection } from "mysql2";

/**
 * Runs a statement that takes no values (START TRANSACTION, COMMIT,
 * KILL QUERY <id>) by the text protocol.
 */
export function simpleQuery(connection: Connection, sql: string) {
  return new Promise<void>((resolve, reject) => {
    connection.query(sql, (error) => (error ? reject(error) : resolve()));
  });
}
