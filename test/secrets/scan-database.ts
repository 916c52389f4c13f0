import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "../../control-plane/db/index.js";

/** A column holding a text a scan looked for. */
export interface Finding {
  table: string;
  column: string;
  needle: string;
}

interface Column {
  table_schema: string;
  table_name: string;
  column_name: string;
  data_type: string;
}

const SCANNED_TYPES = [
  "text",
  "character varying",
  "character",
  "json",
  "jsonb",
  "bytea",
  "ARRAY",
];

/**
 * Looks for each needle in every text, json, jsonb, bytea and array
 * column of every table outside the system schemas, as the database
 * stores it (jsonb as its text, bytea byte for byte).
 */
export async function findInDatabase(
  db: Db,
  needles: readonly string[],
): Promise<Finding[]> {
  const columns = rowsOf<Column>(
    await db.execute(sql`
      SELECT c.table_schema, c.table_name, c.column_name, c.data_type
      FROM information_schema.columns c
      JOIN information_schema.tables t
        ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE t.table_type = 'BASE TABLE'
        AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
        AND c.data_type IN (${sql.join(
          SCANNED_TYPES.map((type) => sql`${type}`),
          sql`, `,
        )})`),
  );
  if (columns.length === 0) throw new Error("no columns to scan");
  const findings: Finding[] = [];
  for (const column of columns) {
    const name = sql.identifier(column.column_name);
    const table = sql`${sql.identifier(column.table_schema)}.${sql.identifier(column.table_name)}`;
    const asText =
      column.data_type === "bytea"
        ? sql`convert_from(${name}, 'SQL_ASCII')`
        : sql`${name}::text`;
    for (const needle of needles) {
      const rows = rowsOf<{ n: number | string }>(
        await db.execute(
          sql`SELECT count(*) AS n FROM ${table}
              WHERE strpos(${asText}, ${needle}) > 0`,
        ),
      );
      if (Number(rows[0]?.n ?? 0) > 0) {
        findings.push({
          table: `${column.table_schema}.${column.table_name}`,
          column: column.column_name,
          needle,
        });
      }
    }
  }
  return findings;
}

/** The columns a scan covers, for a test to check it saw the tables. */
export async function scannedTables(db: Db): Promise<string[]> {
  const rows = rowsOf<{ table_name: string }>(
    await db.execute(sql`
      SELECT DISTINCT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
      ORDER BY table_name`),
  );
  return rows.map((r) => r.table_name);
}
