import { asc } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testBackends } from "../../test/support/test-database.js";
import { taskLogs } from "../db/index.js";
import { Channels } from "../notify/channels.js";
import {
  at,
  claimAll,
  listenFor,
  start,
  task,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { appendTaskLogs, type TaskLogLine } from "./append-task-logs.js";

function line(sequence: number, message: string): TaskLogLine {
  return {
    sequence,
    time: at(2),
    stream: "stdout",
    level: "",
    message,
    fields: { n: sequence },
  };
}

describe.each(testBackends())("appendTaskLogs on $name", (backend) => {
  const t = useTestDatabase(backend);

  async function stored() {
    const rows = await t.db
      .select()
      .from(taskLogs)
      .orderBy(asc(taskLogs.sequence));
    return rows.map((r) => [r.attempt, r.sequence, r.message, r.fields]);
  }

  it("stores the holder's lines once and wakes the log's followers", async () => {
    const { runId } = await start(t.db, workflow(task("one")));
    const lease = (await claimAll(t.db, at(1))).get("one");
    const ref = { leaseId: lease.leaseId, fencingToken: lease.fencingToken };
    const heard = await listenFor(t.database, Channels.taskLog);
    expect(
      await appendTaskLogs(t.db, "agent-1", ref, [line(1, "a"), line(2, "b")]),
    ).toBe(true);
    expect(await heard.received).toBe(runId);
    await heard.stop();
    // A resend after a lost connection: kept once, the new line added.
    expect(
      await appendTaskLogs(t.db, "agent-1", ref, [line(2, "b"), line(3, "c")]),
    ).toBe(true);
    expect(await stored()).toEqual([
      [1, 1, "a", { n: 1 }],
      [1, 2, "b", { n: 2 }],
      [1, 3, "c", { n: 3 }],
    ]);
  });

  it("stores nothing for another agent or a stale token, and says so", async () => {
    await start(t.db, workflow(task("one")));
    const lease = (await claimAll(t.db, at(1))).get("one");
    const ref = { leaseId: lease.leaseId, fencingToken: lease.fencingToken };
    expect(await appendTaskLogs(t.db, "agent-2", ref, [line(1, "x")])).toBe(
      false,
    );
    expect(
      await appendTaskLogs(
        t.db,
        "agent-1",
        { ...ref, fencingToken: ref.fencingToken + 1 },
        [line(1, "x")],
      ),
    ).toBe(false);
    expect(await appendTaskLogs(t.db, "agent-2", ref, [])).toBe(false);
    expect(await appendTaskLogs(t.db, "agent-1", ref, [])).toBe(true);
    expect(await stored()).toEqual([]);
  });
});
