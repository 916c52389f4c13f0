import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationProblemsSchema } from "../../gen/deerflow/v1/common_pb.js";
import type { Workflow } from "../../gen/deerflow/v1/workflow_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const ETL = {
  name: "etl",
  params: { date: "2026-12-01" },
  defaults: { timeout: 600 },
  tasks: [
    { id: "extract", type: "shell", command: "extract ${params.date}" },
    {
      id: "load",
      type: "shell",
      depends_on: ["extract"],
      config: { command: "load" },
    },
  ],
};

/** The same definition as ETL, written as YAML with keys in another order. */
const ETL_YAML = `
tasks:
  - type: shell
    id: extract
    command: extract \${params.date}
  - config: { command: load }
    depends_on: [extract]
    type: shell
    id: load
defaults: { timeout: 600 }
params: { date: "2026-12-01" }
name: etl
`;

/** Awaits a call that must fail; returns its ConnectError. */
async function refused(call: Promise<unknown>): Promise<ConnectError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConnectError)) {
    throw new Error(`expected a ConnectError, got ${String(error)}`);
  }
  return error;
}

describe.each(testBackends())("registered workflows on $name", (backend) => {
  let cp: TestControlPlane;

  beforeAll(async () => {
    cp = await startTestControlPlane(backend);
  });

  afterAll(async () => {
    await cp?.close();
  });

  async function register(document: object | string) {
    const answer = await cp.clients.workflows.registerWorkflow({
      definition: {
        source:
          typeof document === "string"
            ? { case: "text", value: document }
            : { case: "document", value: document as JsonObject },
      },
    });
    if (!answer.workflow) throw new Error("no workflow in the answer");
    return { workflow: answer.workflow, created: answer.created };
  }

  it("stores a new definition as version 1", async () => {
    const { workflow, created } = await register(ETL);
    expect(created).toBe(true);
    expect(workflow).toMatchObject({
      name: "etl",
      version: 1,
      versionCount: 1,
    });
    expect(workflow.digest).toMatch(/^[0-9a-f]{64}$/);
    // Stored normalized: the shorthand `command` moved into config.
    const tasks = workflow.definition?.tasks as JsonObject[];
    expect(tasks[0]?.config).toEqual({ command: "extract ${params.date}" });
    expect(workflow.createdAt).toBeDefined();
  });

  it("returns the latest version, created=false, for the same definition in other words", async () => {
    const first = await cp.clients.workflows.getWorkflow({ name: "etl" });
    for (const same of [ETL, ETL_YAML, JSON.stringify(ETL)]) {
      const { workflow, created } = await register(same);
      expect(created).toBe(false);
      expect(workflow.version).toBe(1);
      expect(workflow.digest).toBe(first.workflow?.digest);
    }
  });

  it("stores a changed definition as the next version", async () => {
    const changed = { ...ETL, params: { date: "2027-01-01" } };
    const { workflow, created } = await register(changed);
    expect(created).toBe(true);
    expect(workflow.version).toBe(2);
    expect(workflow.versionCount).toBe(2);
    expect((await register(changed)).created).toBe(false);
    // Going back to the first definition is a change from the latest.
    const back = await register(ETL);
    expect(back).toMatchObject({ created: true });
    expect(back.workflow.version).toBe(3);
    const v1 = await cp.clients.workflows.getWorkflow({
      name: "etl",
      version: 1,
    });
    expect(back.workflow.digest).toBe(v1.workflow?.digest);
  });

  it("gets the latest version and each version by number", async () => {
    const latest = await cp.clients.workflows.getWorkflow({ name: "etl" });
    expect(latest.workflow).toMatchObject({ version: 3, versionCount: 3 });
    const v2 = await cp.clients.workflows.getWorkflow({
      name: "etl",
      version: 2,
    });
    expect(v2.workflow).toMatchObject({ version: 2, versionCount: 3 });
    expect(v2.workflow?.definition?.params).toEqual({ date: "2027-01-01" });
    const v1 = await cp.clients.workflows.getWorkflow({
      name: "etl",
      version: 1,
    });
    expect(v1.workflow?.definition?.params).toEqual({ date: "2026-12-01" });
  });

  it("answers NotFound naming an unknown name or version", async () => {
    const noName = await refused(
      cp.clients.workflows.getWorkflow({ name: "no-such-workflow" }),
    );
    expect(noName.code).toBe(Code.NotFound);
    expect(noName.rawMessage).toBe("workflow no-such-workflow not found");
    const noVersion = await refused(
      cp.clients.workflows.getWorkflow({ name: "etl", version: 9 }),
    );
    expect(noVersion.code).toBe(Code.NotFound);
    expect(noVersion.rawMessage).toBe(
      "workflow etl version 9 not found (the latest is version 3)",
    );
  });

  it("answers InvalidArgument naming a missing or malformed field", async () => {
    const cases: [Promise<unknown>, RegExp][] = [
      [cp.clients.workflows.getWorkflow({}), /^name: is required$/],
      [
        cp.clients.workflows.getWorkflow({ name: "a b\u0000" }),
        /^name: "a b\\u0000" is not a workflow name/,
      ],
      [
        cp.clients.workflows.getWorkflow({ name: "etl", version: -1 }),
        /^version: must not be negative/,
      ],
      [cp.clients.workflows.listWorkflows({ pageSize: -1 }), /^page_size: /],
      [
        cp.clients.workflows.listWorkflows({ pageToken: "garbage" }),
        /^page_token: /,
      ],
      [cp.clients.workflows.registerWorkflow({}), /definition: is required/],
    ];
    for (const [call, message] of cases) {
      const error = await refused(call);
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toMatch(message);
    }
  });

  it("refuses an invalid definition with every problem, as StartRun does", async () => {
    const bad = {
      name: "bad one",
      concurrency: 0,
      tasks: [
        { id: "a", type: "shell", command: "x", depends_on: ["zz"] },
        { id: "a", type: "shell", command: "y" },
        { id: "b", type: "no-such-type" },
        { id: "c", type: "shell", command: "${tasks.b.output.x}" },
      ],
    };
    const error = await refused(register(bad));
    expect(error.code).toBe(Code.InvalidArgument);
    const [details] = error.findDetails(ValidationProblemsSchema);
    const problems = (details?.problems ?? []).map((p) => ({
      taskId: p.taskId,
      field: p.field,
    }));
    expect(problems).toEqual(
      expect.arrayContaining([
        { taskId: "", field: "name" },
        { taskId: "", field: "concurrency" },
        { taskId: "a", field: "depends_on[0]" },
        { taskId: "a", field: "id" },
        { taskId: "b", field: "type" },
        { taskId: "c", field: "config.command" },
      ]),
    );
    const inline = await refused(
      cp.clients.runs.startRun({
        workflow: {
          case: "definition",
          value: { source: { case: "document", value: bad as JsonObject } },
        },
      }),
    );
    expect(error.rawMessage).toBe(inline.rawMessage);
    expect(details?.problems).toEqual(
      inline.findDetails(ValidationProblemsSchema)[0]?.problems,
    );
    // Nothing was stored.
    const listed = await cp.clients.workflows.listWorkflows({});
    expect(listed.workflows.map((w) => w.name)).toEqual(["etl"]);
  });

  it("lists the latest version of each workflow with its count, page by page", async () => {
    for (const name of ["alpha", "beta", "gamma"]) {
      await register({ ...ETL, name });
    }
    await register({ ...ETL, name: "beta", description: "second" });
    const seen: Workflow[] = [];
    let pageToken = "";
    do {
      const page = await cp.clients.workflows.listWorkflows({
        pageSize: 1,
        pageToken,
      });
      expect(page.workflows.length).toBeLessThanOrEqual(1);
      seen.push(...page.workflows);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(seen.map((w) => [w.name, w.version, w.versionCount])).toEqual([
      ["alpha", 1, 1],
      ["beta", 2, 2],
      ["etl", 3, 3],
      ["gamma", 1, 1],
    ]);
    expect(seen[1]?.definition?.description).toBe("second");
    const all = await cp.clients.workflows.listWorkflows({});
    expect(all.workflows.map((w) => w.name)).toEqual(seen.map((w) => w.name));
    expect(all.nextPageToken).toBe("");
  });

  it("lists every version of one name, newest first, page by page", async () => {
    const first = await cp.clients.workflows.listWorkflows({
      name: "etl",
      pageSize: 2,
    });
    expect(first.workflows.map((w) => w.version)).toEqual([3, 2]);
    expect(first.workflows.every((w) => w.versionCount === 3)).toBe(true);
    const rest = await cp.clients.workflows.listWorkflows({
      name: "etl",
      pageSize: 2,
      pageToken: first.nextPageToken,
    });
    expect(rest.workflows.map((w) => w.version)).toEqual([1]);
    expect(rest.nextPageToken).toBe("");
    // A token belongs to its list.
    const crossed = await refused(
      cp.clients.workflows.listWorkflows({
        name: "beta",
        pageToken: first.nextPageToken,
      }),
    );
    expect(crossed.code).toBe(Code.InvalidArgument);
    expect(crossed.rawMessage).toMatch(/^page_token: /);
    const unknown = await cp.clients.workflows.listWorkflows({ name: "nope" });
    expect(unknown.workflows).toEqual([]);
  });

  it("gives concurrent registrations of one name distinct, gapless versions", async () => {
    const count = 8;
    const answers = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        register({ ...ETL, name: "racy", description: `variant ${i}` }),
      ),
    );
    expect(answers.every((a) => a.created)).toBe(true);
    const versions = answers.map((a) => a.workflow.version);
    expect([...versions].sort((a, b) => a - b)).toEqual(
      Array.from({ length: count }, (_, i) => i + 1),
    );
    // Each stored version holds the definition its registration sent.
    for (const answer of answers) {
      const { workflow } = await cp.clients.workflows.getWorkflow({
        name: "racy",
        version: answer.workflow.version,
      });
      expect(workflow?.digest).toBe(answer.workflow.digest);
      expect(workflow?.definition?.description).toBe(
        answer.workflow.definition?.description,
      );
    }
  });

  it("stores one version when the same new definition is registered concurrently", async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => register({ ...ETL, name: "twins" })),
    );
    expect(answers.filter((a) => a.created)).toHaveLength(1);
    expect(new Set(answers.map((a) => a.workflow.version))).toEqual(
      new Set([1]),
    );
    const listed = await cp.clients.workflows.listWorkflows({ name: "twins" });
    expect(listed.workflows).toHaveLength(1);
  });
});
