import { createHash } from "node:crypto";
import { toJsonString } from "@bufbuild/protobuf";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rowsOf } from "../../control-plane/db/index.js";
import {
  GetRunResponseSchema,
  GetTaskLogsResponseSchema,
  GetTaskResponseSchema,
  RunState,
  TaskState,
  WatchRunResponseSchema,
} from "../../gen/deerflow/v1/run_pb.js";
import {
  type AgentProcess,
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { startInline, waitForRun } from "../support/runs.js";
import { testBackends } from "../support/test-database.js";
import { findInDatabase } from "./scan-database.js";
import {
  type SecretsControlPlane,
  startSecretsControlPlane,
  uniqueSecret,
} from "./secrets-control-plane.js";

/**
 * A shell task echoes a store secret and an env secret (to stdout, to
 * stderr, into its output, through a template and as environment
 * variables) and a python task fails with a secret in its exception.
 * The task proves it had the values (a digest of both); nothing the
 * control plane stores or answers holds them.
 */
function definition() {
  const digest =
    '$(printf %s "$WAREHOUSE_URL$API_TOKEN" | sha256sum | cut -c1-64)';
  return {
    name: "secrets-e2e",
    tasks: [
      {
        id: "use",
        type: "shell",
        secrets: {
          WAREHOUSE_URL: "warehouse_url",
          API_TOKEN: { provider: "env", name: "DEERFLOW_TEST_API_TOKEN" },
        },
        command: [
          'echo "url is $WAREHOUSE_URL"',
          'echo "token is ${secrets.API_TOKEN}" >&2',
          "echo ${secrets.WAREHOUSE_URL} ${secrets.IMPLICIT_FROM_STORE}",
          `printf '{"leak": "%s", "digest": "%s"}' "$WAREHOUSE_URL" "${digest}" > "$DEERFLOW_OUTPUT"`,
        ].join("\n"),
      },
      {
        id: "raise",
        type: "python",
        secrets: { WAREHOUSE_URL: "warehouse_url" },
        code:
          "import os\n" +
          "print('from python', os.environ['WAREHOUSE_URL'])\n" +
          "raise RuntimeError('cannot connect to ' + os.environ['WAREHOUSE_URL'])\n",
      },
    ],
  };
}

describe.each(testBackends())("secrets end to end on $name", (backend) => {
  let cp: SecretsControlPlane;
  let agent: AgentProcess;
  const url = `postgres://etl:${uniqueSecret("pw")}@warehouse:5432/db`;
  const token = uniqueSecret("token");
  // Hostile to a shell: it must arrive as one word, changing nothing.
  const implicit = `${uniqueSecret("implicit")}'"$(id)\`;|&`;

  beforeEach(async () => {
    cp = await startSecretsControlPlane(backend, {
      envAllow: ["DEERFLOW_TEST_*"],
      environment: { DEERFLOW_TEST_API_TOKEN: token },
    });
    await cp.secrets.putSecret({ name: "warehouse_url", value: url });
    await cp.secrets.putSecret({
      name: "IMPLICIT_FROM_STORE",
      value: implicit,
    });
    agent = await spawnAgent({ serverUrl: cp.url, name: "secret-agent" });
    // Generous: the agent is a fresh process on a shared, busy machine.
    await waitForAgents(cp.clients, ["secret-agent"], 90_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}\n${agent.output()}`);
      },
    );
  }, 150_000);

  afterEach(async () => {
    await stopAllAgents();
    await cp.close();
  });

  it("delivers the values to the task and keeps them out of everything stored or answered", async () => {
    const runId = await startInline(cp.clients, definition());
    const events = [];
    for await (const response of cp.clients.runs.watchRun({ runId })) {
      events.push(toJsonString(WatchRunResponseSchema, response));
    }
    const run = await waitForRun(cp.clients, runId);
    expect(run.state).toBe(RunState.FAILED);
    const byId = new Map(run.tasks.map((t) => [t.id, t]));
    const use = byId.get("use");
    expect(use?.state, use?.error).toBe(TaskState.SUCCESS);
    // The task had both values: its digest of them is right.
    const expected = createHash("sha256")
      .update(url + token)
      .digest("hex");
    expect(use?.output).toMatchObject({
      leak: "[REDACTED:WAREHOUSE_URL]",
      digest: expected,
    });
    const raise = byId.get("raise");
    expect(raise?.state).toBe(TaskState.FAILED);
    expect(raise?.error).toContain(
      "cannot connect to [REDACTED:WAREHOUSE_URL]",
    );

    const messages = await storedLogMessages(cp, runId);
    expect(messages).toContain("url is [REDACTED:WAREHOUSE_URL]");
    expect(messages).toContain("token is [REDACTED:API_TOKEN]");
    expect(messages).toContain(
      "[REDACTED:WAREHOUSE_URL] [REDACTED:IMPLICIT_FROM_STORE]",
    );
    expect(messages).toContain("from python [REDACTED:WAREHOUSE_URL]");

    const answers = [
      ...events,
      toJsonString(
        GetRunResponseSchema,
        await cp.clients.runs.getRun({ runId }),
      ),
      ...(await Promise.all(
        ["use", "raise"].map(async (taskId) =>
          toJsonString(
            GetTaskResponseSchema,
            await cp.clients.runs.getTask({ runId, taskId }),
          ),
        ),
      )),
      ...(await Promise.all(
        ["use", "raise"].map(async (taskId) =>
          toJsonString(
            GetTaskLogsResponseSchema,
            await cp.clients.runs.getTaskLogs({ runId, taskId }),
          ),
        ),
      )),
    ].join("\n");
    // The API hands the lines back as stored: redacted.
    expect(answers).toContain("url is [REDACTED:WAREHOUSE_URL]");
    const needles = [
      url,
      token,
      implicit,
      ...encodedForms(url),
      ...encodedForms(implicit),
    ];
    for (const needle of needles) {
      expect(answers).not.toContain(needle);
      expect(agent.output()).not.toContain(needle);
    }
    expect(await findInDatabase(cp.controlPlane.database.db, needles)).toEqual(
      [],
    );
  }, 180_000);
});

/** The forms a value takes inside JSON and base64. */
function encodedForms(value: string): string[] {
  return [
    JSON.stringify(value).slice(1, -1),
    Buffer.from(value).toString("base64"),
  ];
}

async function storedLogMessages(
  cp: SecretsControlPlane,
  runId: string,
): Promise<string[]> {
  const rows = rowsOf<{ message: string }>(
    await cp.controlPlane.database.db.execute(
      sql`SELECT message FROM task_logs WHERE run_id = ${runId}
          ORDER BY task_id, attempt, sequence`,
    ),
  );
  return rows.map((r) => r.message);
}
