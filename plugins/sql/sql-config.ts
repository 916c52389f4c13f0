import type { ConfigSchema, JsonValue } from "../../plugin-sdk/index.js";

/** Rows kept in the output when `max_rows` is not given. */
export const DEFAULT_MAX_ROWS = 1_000;

/** The most rows a task may ask to keep: outputs travel to the server. */
export const MAX_ROWS_LIMIT = 100_000;

/** The config of a `sql` task, after templates are rendered. */
export interface SqlConfig {
  /** postgres://, postgresql://, mysql:// or mariadb:// URL. */
  connection: string;
  /** One statement; its `${...}` templates are still in place. */
  query: string;
  /** Values for the `$1` (PostgreSQL) or `?` (MySQL) the query writes. */
  params?: JsonValue[];
  /** Default true. */
  fetch_results?: boolean;
  /** Default {@link DEFAULT_MAX_ROWS}. */
  max_rows?: number;
  /** Seconds. */
  statement_timeout?: number;
  /** Default false. */
  transaction?: boolean;
}

/** The JSON Schema of {@link SqlConfig}. */
export const sqlConfigSchema: ConfigSchema = {
  type: "object",
  description: "Runs one SQL statement on PostgreSQL or MySQL/MariaDB.",
  properties: {
    connection: {
      type: "string",
      pattern: "^(postgres|postgresql|mysql|mariadb)://",
      "x-encoding": "url",
      description:
        "The database URL: postgres:// or postgresql:// (PostgreSQL), " +
        "mysql:// or mariadb:// (MySQL, MariaDB). Template values are " +
        "percent-encoded; a field that is one template, such as " +
        "${secrets.WAREHOUSE_URL}, is the whole URL. The password never " +
        "appears in logs or errors.",
    },
    query: {
      type: "string",
      minLength: 1,
      "x-encoding": "bind",
      description:
        "One SQL statement. Each ${...} becomes a bind parameter ($n on " +
        "PostgreSQL, ? on MySQL), so a value can never change the " +
        "statement; write it bare, not inside quotes. Several statements " +
        "are refused.",
    },
    params: {
      type: "array",
      description:
        "Values for the placeholders the query writes itself: $1, $2 ... " +
        "on PostgreSQL (templates are numbered after them), each ? in " +
        "order on MySQL. Like template values, they are bind parameters.",
    },
    fetch_results: {
      type: "boolean",
      default: true,
      description:
        "Whether the output gets rows and truncated; row_count and " +
        "columns are set either way.",
    },
    max_rows: {
      type: "integer",
      minimum: 0,
      maximum: MAX_ROWS_LIMIT,
      default: DEFAULT_MAX_ROWS,
      description:
        "The most rows kept in the output; with more, the rest are " +
        "counted but dropped and truncated is true.",
    },
    statement_timeout: {
      type: "number",
      exclusiveMinimum: 0,
      description:
        "Seconds the statement may run before the server stops it; the " +
        "attempt then fails with retry class timeout.",
    },
    transaction: {
      type: "boolean",
      default: false,
      description:
        "Whether the statement runs between BEGIN and COMMIT (rolled back " +
        "when it fails or is stopped).",
    },
  },
  required: ["connection", "query"],
  additionalProperties: false,
};
