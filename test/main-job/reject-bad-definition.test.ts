import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rowsOf } from "../../control-plane/db/index.js";
import { ValidationProblemsSchema } from "../../gen/deerflow/v1/common_pb.js";
import { startInline } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const BROKEN = {
  name: "broken",
  tasks: [
    { id: "a", type: "shell", command: "true", depends_on: ["c"] },
    { id: "b", type: "shell", command: "true", depends_on: ["a"] },
    { id: "c", type: "shell", command: "true", depends_on: ["b"] },
    { id: "d", type: "shell", command: "true", depends_on: ["nowhere"] },
    { id: "d", type: "shell", command: "true" },
    { id: "e", type: "teleport", destination: "mars" },
  ],
};

describe.each(testBackends())("a bad definition on $name", (backend) => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startTestControlPlane(backend);
  });
  afterEach(() => cp.close());

  it("is rejected with every problem, each naming its task, and nothing is stored", async () => {
    const error = await startInline(cp.clients, BROKEN).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.InvalidArgument);
    const [details] = error?.findDetails(ValidationProblemsSchema) ?? [];
    const problems = details?.problems ?? [];
    const find = (taskId: string, text: string) =>
      problems.find((p) => p.taskId === taskId && p.message.includes(text));

    expect(
      find("a", "cycle") ?? find("b", "cycle") ?? find("c", "cycle"),
    ).toBeDefined();
    expect(
      problems.some((p) =>
        /a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c/.test(p.message),
      ),
    ).toBe(true);
    expect(find("d", "nowhere")).toMatchObject({
      field: expect.stringContaining("depends_on"),
    });
    expect(find("d", "duplicate")).toBeDefined();
    expect(find("e", "teleport")).toMatchObject({ field: "type" });
    // The message a person reads lists them too.
    expect(error?.rawMessage).toMatch(/task d: .*nowhere/);

    const [counts] = rowsOf<{ runs: number; tasks: number; events: number }>(
      await cp.controlPlane.database.db.execute(sql`
        SELECT (SELECT count(*) FROM runs)::int AS runs,
               (SELECT count(*) FROM tasks)::int AS tasks,
               (SELECT count(*) FROM run_events)::int AS events`),
    );
    expect(counts).toEqual({ runs: 0, tasks: 0, events: 0 });
  });
});
