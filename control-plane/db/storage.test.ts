import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { useTestDatabase } from "../test-support.js";
import { rowsOf } from "./index.js";

describe.each(testBackends())("table storage on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("leaves room on attempts' pages for the update that ends each one", async () => {
    const [row] = rowsOf<{ options: string[] | null }>(
      await t.db.execute(sql`
        SELECT reloptions AS options FROM pg_class
        WHERE oid = 'attempts'::regclass`),
    );
    expect(row?.options).toContain("fillfactor=70");
  });

  it("keys run event batches by run and sequence, with no other index to write", async () => {
    const indexes = rowsOf<{ name: string; definition: string }>(
      await t.db.execute(sql`
        SELECT indexname AS name, indexdef AS definition FROM pg_indexes
        WHERE tablename = 'run_event_batches'`),
    );
    expect(indexes).toHaveLength(1);
    expect(indexes[0]?.definition).toMatch(
      /UNIQUE INDEX .* \(run_id, sequence\)/,
    );
  });
});
