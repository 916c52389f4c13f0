import type { JsonObject } from "../../plugin-sdk/index.js";
import { rowToJson } from "./json-safe.js";

/**
 * Counts the rows a statement returns and keeps the first `keep` of them
 * as JSON. Rows past the cap are counted and dropped as they stream in,
 * so a huge result costs time, not memory.
 */
export class RowCollector {
  readonly rows: JsonObject[] = [];
  private seen = 0;

  constructor(readonly keep: number) {}

  add(row: Record<string, unknown>): void {
    this.seen += 1;
    if (this.rows.length < this.keep) this.rows.push(rowToJson(row));
  }

  /** How many rows arrived, kept or not. */
  get count(): number {
    return this.seen;
  }

  /** True when rows were dropped for the cap. */
  get truncated(): boolean {
    return this.seen > this.rows.length;
  }
}
