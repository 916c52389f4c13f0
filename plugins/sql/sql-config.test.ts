import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../plugin-sdk/index.js";
import {
  checkConfig,
  compileConfigSchema,
} from "../../workflow/config-schema-check.js";
import { sqlConfigSchema } from "./sql-config.js";

function problems(config: JsonObject): string[] {
  const found: string[] = [];
  checkConfig(config, sqlConfigSchema, "sql", (field, message) =>
    found.push(`${field}: ${message}`),
  );
  return found;
}

describe("sqlConfigSchema", () => {
  it("compiles strictly and marks its templated fields", () => {
    expect(() => compileConfigSchema(sqlConfigSchema)).not.toThrow();
    const properties = sqlConfigSchema.properties as Record<
      string,
      Record<string, unknown>
    >;
    expect(properties.query?.["x-encoding"]).toBe("bind");
    expect(properties.connection?.["x-encoding"]).toBe("url");
  });

  it("accepts templated values that are only known at run time", () => {
    expect(
      problems({
        connection: "${secrets.WAREHOUSE_URL}",
        query: "select * from t where d = ${params.date}",
        params: ["${params.x}"],
        max_rows: "${params.limit}",
      }),
    ).toEqual([]);
  });

  it("names the field of each mistake", () => {
    expect(
      problems({ connection: "sqlite://x", query: "", max_rows: 200_000 }),
    ).toEqual([
      'config.connection: must match pattern "^(postgres|postgresql|mysql|mariadb)://"',
      "config.query: must NOT have fewer than 1 characters",
      "config.max_rows: must be <= 100000",
    ]);
  });
});
