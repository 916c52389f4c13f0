import type { BoundTemplate, JsonValue } from "../../plugin-sdk/index.js";
import type { SqlDialect } from "./connection-target.js";
import { type SqlScan, SqlTextError, scanSql } from "./scan-sql.js";

/** A statement ready for the driver: text with placeholders, values. */
export interface BoundStatement {
  text: string;
  /** One per placeholder: `values[k]` is `$k+1`, or the k-th `?`. */
  values: JsonValue[];
}

/**
 * Joins a bound query back into one statement, writing a placeholder
 * where each template stood. On PostgreSQL the author's own `$1..$m`
 * are the `params` and the templates take `$m+1` on; on MySQL every `?`
 * is positional, so the values are ordered as the placeholders stand.
 * The text is only ever the author's; values travel apart from it.
 * Throws {@link SqlTextError}.
 */
export function bindStatement(
  bound: BoundTemplate,
  params: readonly JsonValue[],
  dialect: SqlDialect,
): BoundStatement {
  const chunks = [...bound.strings];
  if (chunks.length !== bound.values.length + 1) {
    throw new SqlTextError("the bound template is malformed");
  }
  const scan = scanSql(chunks, dialect);
  cutTerminator(chunks, scan);
  return dialect === "postgres"
    ? postgresStatement(chunks, bound.values, params, scan)
    : mysqlStatement(chunks, bound.values, params, scan);
}

/** Drivers differ on a trailing `;`, so it is left out. */
function cutTerminator(chunks: string[], scan: SqlScan): void {
  if (scan.terminator === undefined) return;
  const last = chunks.length - 1;
  chunks[last] = (chunks[last] ?? "").slice(0, scan.terminator);
}

function postgresStatement(
  chunks: string[],
  templateValues: JsonValue[],
  params: readonly JsonValue[],
  scan: SqlScan,
): BoundStatement {
  for (const { number } of scan.written) {
    if (number === undefined || number < 1 || number > params.length) {
      throw new SqlTextError(
        `$${number} has no value: config.params has ${params.length}`,
      );
    }
  }
  let text = chunks[0] ?? "";
  for (let i = 1; i < chunks.length; i++) {
    text += `$${params.length + i}${chunks[i]}`;
  }
  return { text, values: [...params, ...templateValues] };
}

function mysqlStatement(
  chunks: string[],
  templateValues: JsonValue[],
  params: readonly JsonValue[],
  scan: SqlScan,
): BoundStatement {
  if (scan.written.length !== params.length) {
    throw new SqlTextError(
      `writes ${scan.written.length} ? placeholder(s) but config.params ` +
        `has ${params.length} value(s)`,
    );
  }
  const values: JsonValue[] = [];
  let nextParam = 0;
  chunks.forEach((_, chunk) => {
    for (const placeholder of scan.written) {
      if (placeholder.chunk === chunk) values.push(params[nextParam++] ?? null);
    }
    if (chunk < templateValues.length) {
      values.push(templateValues[chunk] ?? null);
    }
  });
  return { text: chunks.join("?"), values };
}
