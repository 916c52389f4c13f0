import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import type { AffinityExpression } from "../../workflow/index.js";
import { rowsOf } from "../db/index.js";
import { useTestDatabase } from "../test-support.js";
import { affinityHolds } from "./affinity-holds.js";
import { expressionHolds } from "./expression-holds.js";

const GPU = { gpu_type: "h100", gpu_count: "4", zone: "eu-1" };
const SPOT = { gpu_count: "0", spot: "true", zone: "us-1" };
const ODD = { gpu_count: "many", memory_bytes: "68719476736", neg: "-3" };
const HUGE = { gpu_count: "99999999999999999999" };

type Labels = Record<string, string>;
const e = (
  key: string,
  operator: string,
  values?: unknown[],
): AffinityExpression =>
  ({
    key,
    operator,
    ...(values ? { values } : {}),
  }) as AffinityExpression;

/**
 * One table for both evaluations: the claim's SQL and explain's
 * TypeScript must each give `holds`, including for what the validator
 * would refuse (the SQL reads whatever is stored).
 */
const CASES: [string, Labels, AffinityExpression, boolean][] = [
  ["in: listed", GPU, e("gpu_type", "In", ["a100", "h100"]), true],
  ["in: not listed", GPU, e("gpu_type", "In", ["a100"]), false],
  ["in: unset", SPOT, e("gpu_type", "In", ["h100"]), false],
  ["in: number value", GPU, e("gpu_count", "In", [4]), false],
  ["in: no values", GPU, e("gpu_type", "In"), false],
  ["not-in: listed", GPU, e("zone", "NotIn", ["eu-1"]), false],
  ["not-in: other", SPOT, e("zone", "NotIn", ["eu-1"]), true],
  ["not-in: unset", ODD, e("zone", "NotIn", ["eu-1"]), true],
  ["not-in: no values, set", GPU, e("zone", "NotIn"), false],
  ["not-in: no values, unset", ODD, e("zone", "NotIn"), true],
  ["exists: set", SPOT, e("spot", "Exists"), true],
  ["exists: unset", GPU, e("spot", "Exists"), false],
  ["exists: empty value", { spot: "" }, e("spot", "Exists"), true],
  ["does-not-exist: unset", GPU, e("spot", "DoesNotExist"), true],
  ["does-not-exist: set", SPOT, e("spot", "DoesNotExist"), false],
  ["gt: greater", GPU, e("gpu_count", "Gt", ["1"]), true],
  ["gt: equal", GPU, e("gpu_count", "Gt", ["4"]), false],
  ["gt: negative bound", SPOT, e("gpu_count", "Gt", ["-1"]), true],
  ["gt: negative label", ODD, e("neg", "Gt", ["-4"]), true],
  ["gt: not an integer", ODD, e("gpu_count", "Gt", ["1"]), false],
  ["gt: unset", SPOT, e("memory_bytes", "Gt", ["1"]), false],
  ["gt: past int8", HUGE, e("gpu_count", "Gt", ["9223372036854775807"]), true],
  ["gt: past int4", ODD, e("memory_bytes", "Gt", ["34359738368"]), true],
  ["gt: bad bound", GPU, e("gpu_count", "Gt", ["one"]), false],
  ["gt: number bound", GPU, e("gpu_count", "Gt", [2]), true],
  ["gt: no values", GPU, e("gpu_count", "Gt"), false],
  ["lt: less", SPOT, e("gpu_count", "Lt", ["1"]), true],
  ["lt: equal", GPU, e("gpu_count", "Lt", ["4"]), false],
  ["lt: leading zeros", GPU, e("gpu_count", "Lt", ["0005"]), true],
  ["lt: decimal label", { n: "1.5" }, e("n", "Lt", ["2"]), false],
  ["unknown operator", GPU, e("zone", "Near", ["eu-1"]), false],
  ["prototype key", GPU, e("constructor", "Exists"), false],
  ["prototype key unset", GPU, e("toString", "DoesNotExist"), true],
];

describe("expressionHolds", () => {
  it.each(CASES)("%s", (_, labels, expression, holds) => {
    expect(expressionHolds(expression, labels)).toBe(holds);
  });
});

describe.each(testBackends())("affinityHolds on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("gives the same answer as expressionHolds for every case", async () => {
    const answers: Record<string, boolean> = {};
    for (const [name, labels, expression] of CASES) {
      const [row] = rowsOf<{ holds: boolean }>(
        await t.db.execute(sql`
          SELECT ${affinityHolds(labels)} AS holds
          FROM (SELECT ${JSON.stringify([expression])}::jsonb AS affinity)
            AS tasks`),
      );
      answers[name] = row?.holds ?? false;
    }
    expect(answers).toEqual(
      Object.fromEntries(CASES.map(([name, , , holds]) => [name, holds])),
    );
  });
});
