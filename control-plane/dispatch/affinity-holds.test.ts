import { asc, eq, TransactionRollbackError } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import type { AffinityExpression } from "../../workflow/index.js";
import { type Db, tasks } from "../db/index.js";
import {
  ACK_DEADLINE_MS,
  agent,
  at,
  claim,
  LEASE_TTL_MS,
  start,
  task,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { claimTasks } from "./claim-tasks.js";

/** Agents of different labels, as detected and declared ones read. */
const AGENTS: Record<string, Record<string, string>> = {
  h100x4: { gpu_type: "h100", gpu_count: "4", zone: "eu-1" },
  a100x1: { gpu_type: "a100", gpu_count: "1", zone: "us-1", spot: "true" },
  cpu: { gpu_count: "0", zone: "eu-2" },
  // Not integers: Gt and Lt never match them, and nothing fails.
  odd: { gpu_count: "many", zone: "eu-1", memory_bytes: "1.5e9" },
  // Past int8: compared all the same.
  huge: {
    gpu_count: "99999999999999999999",
    memory_bytes: "68719476736",
  },
};

const expr = (
  key: string,
  operator: AffinityExpression["operator"],
  ...values: string[]
): AffinityExpression =>
  values.length > 0 ? { key, operator, values } : { key, operator };

/** Per task: its affinity (and selector), and the agents it fits. */
const CASES: {
  id: string;
  affinity?: AffinityExpression[];
  node_selector?: Record<string, string>;
  fits: string[];
}[] = [
  {
    id: "in",
    affinity: [expr("gpu_type", "In", "a100", "h100")],
    fits: ["a100x1", "h100x4"],
  },
  {
    // An agent without the label is not in the list.
    id: "not-in",
    affinity: [expr("zone", "NotIn", "eu-1")],
    fits: ["a100x1", "cpu", "huge"],
  },
  { id: "exists", affinity: [expr("spot", "Exists")], fits: ["a100x1"] },
  {
    id: "does-not-exist",
    affinity: [expr("spot", "DoesNotExist")],
    fits: ["cpu", "h100x4", "huge", "odd"],
  },
  {
    id: "gt",
    affinity: [expr("gpu_count", "Gt", "1")],
    fits: ["h100x4", "huge"],
  },
  {
    id: "lt",
    affinity: [expr("gpu_count", "Lt", "2")],
    fits: ["a100x1", "cpu"],
  },
  {
    id: "gt-negative",
    affinity: [expr("gpu_count", "Gt", "-1")],
    fits: ["a100x1", "cpu", "h100x4", "huge"],
  },
  {
    id: "gt-past-int4",
    affinity: [expr("memory_bytes", "Gt", "34359738368")],
    fits: ["huge"],
  },
  {
    id: "with-selector",
    node_selector: { zone: "eu-1" },
    affinity: [expr("gpu_count", "Gt", "1")],
    fits: ["h100x4"],
  },
  {
    id: "all-must-hold",
    affinity: [
      expr("gpu_type", "In", "a100", "h100"),
      expr("spot", "DoesNotExist"),
      expr("zone", "NotIn", "us-1", "eu-2"),
    ],
    fits: ["h100x4"],
  },
  {
    // Stored past the validator: never matches, never raises.
    id: "bad-value",
    affinity: [expr("gpu_count", "Gt", "one")],
    fits: [],
  },
  {
    id: "unknown-operator",
    affinity: [
      { key: "zone", operator: "Near" as AffinityExpression["operator"] },
    ],
    fits: [],
  },
  { id: "none", fits: ["a100x1", "cpu", "h100x4", "huge", "odd"] },
  {
    id: "empty",
    affinity: [],
    fits: ["a100x1", "cpu", "h100x4", "huge", "odd"],
  },
];

/** The tasks a claim for `labels` would take; the claim is rolled back. */
async function fitting(
  db: Db,
  labels: Record<string, string>,
): Promise<string[]> {
  let ids: string[] = [];
  try {
    await db.transaction(async (tx) => {
      const { assignments } = await claimTasks(tx, agent("a", labels), {
        limit: 100,
        leaseTtlMs: LEASE_TTL_MS,
        ackDeadlineMs: ACK_DEADLINE_MS,
        now: at(1),
      });
      ids = assignments.map((a) => a.taskId).sort();
      tx.rollback();
    });
  } catch (error) {
    if (!(error instanceof TransactionRollbackError)) throw error;
  }
  return ids;
}

describe.each(testBackends())("affinity in the claim on $name", (backend) => {
  const t = useTestDatabase(backend);

  it("claims for each agent exactly the tasks whose affinity it matches", async () => {
    await start(
      t.db,
      workflow(
        ...CASES.map(({ id, affinity, node_selector }) =>
          task(id, {
            ...(affinity ? { affinity } : {}),
            ...(node_selector ? { node_selector } : {}),
          }),
        ),
      ),
    );
    for (const [name, labels] of Object.entries(AGENTS)) {
      const expected = CASES.filter((c) => c.fits.includes(name))
        .map((c) => c.id)
        .sort();
      expect(await fitting(t.db, labels), name).toEqual(expected);
    }
  });

  it("stores affinity in its column, null when a task has none", async () => {
    const gt = [expr("gpu_count", "Gt", "1")];
    const { runId } = await start(
      t.db,
      workflow(
        task("with", { affinity: gt }),
        task("without"),
        task("empty", { affinity: [] }),
      ),
    );
    const rows = await t.db
      .select({ taskId: tasks.taskId, affinity: tasks.affinity })
      .from(tasks)
      .where(eq(tasks.runId, runId))
      .orderBy(asc(tasks.position));
    expect(rows).toEqual([
      { taskId: "with", affinity: gt },
      { taskId: "without", affinity: null },
      { taskId: "empty", affinity: null },
    ]);
  });

  it("leaves a task no agent matches queued for one that comes later", async () => {
    await start(
      t.db,
      workflow(task("big", { affinity: [expr("gpu_count", "Gt", "2")] })),
    );
    expect(await claim(t.db, agent("small", { gpu_count: "2" }))).toEqual([]);
    const taken = await claim(t.db, agent("big", { gpu_count: "8" }));
    expect(taken.map((a) => a.taskId)).toEqual(["big"]);
  });
});
