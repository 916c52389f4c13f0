import { readFile } from "node:fs/promises";
import { createClient, type DeerFlowClient } from "deerflow/sdk";
import { asc, eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { runs, tasks } from "../../control-plane/db/index.js";
import { nightlyReport } from "../../examples/sdk/nightly-report.js";
import { parseDefinitionText } from "../../workflow/index.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const YAML_FILE = new URL(
  "../../examples/builder-equivalent.yaml",
  import.meta.url,
);

describe("the builder example and its YAML", () => {
  it("parse to the same document, key for key and in the same order", async () => {
    const parsed = parseDefinitionText(await readFile(YAML_FILE, "utf8"));
    expect(parsed.problems).toEqual([]);
    expect(JSON.stringify(nightlyReport.toDefinition(), null, 1)).toBe(
      JSON.stringify(parsed.document, null, 1),
    );
  });
});

describe.each(testBackends())(
  "the builder example and its YAML on $name",
  (backend) => {
    let cp: TestControlPlane | undefined;
    let client: DeerFlowClient | undefined;

    afterEach(async () => {
      client?.close();
      await cp?.close();
    });

    it("are stored as identical definitions", async () => {
      cp = await startTestControlPlane(backend);
      const api = createClient({ baseUrl: cp.url });
      client = api;
      const yaml = await readFile(YAML_FILE, "utf8");

      // Submitted the way each is written: the YAML as text, the builder's
      // workflow as a document.
      const fromYaml = await api.startRun({ definition: yaml });
      const fromBuilder = await api.startRun({ definition: nightlyReport });

      const { db } = cp.controlPlane.database;
      const stored = async (runId: string) => {
        const [run] = await db
          .select({ definition: runs.definition })
          .from(runs)
          .where(eq(runs.id, runId));
        const specs = await db
          .select({ spec: tasks.spec })
          .from(tasks)
          .where(eq(tasks.runId, runId))
          .orderBy(asc(tasks.position));
        return { definition: run?.definition, specs: specs.map((t) => t.spec) };
      };
      const yamlStored = await stored(fromYaml.id);
      const builderStored = await stored(fromBuilder.id);
      expect(yamlStored.definition).toBeDefined();
      expect(builderStored).toEqual(yamlStored);
      // Normalized, not merely copied: defaults reached the tasks.
      expect(yamlStored.specs[0]).toMatchObject({
        id: "extract",
        timeout: 300,
      });

      // What the API shows of the two runs is the same too.
      const view = async (runId: string) => {
        const run = await api.runs.getRun({ runId });
        return {
          workflowName: run?.run?.workflowName,
          params: run?.run?.params,
          tasks: run?.run?.tasks.map((t) => ({
            id: t.id,
            name: t.name,
            type: t.type,
            dependsOn: t.dependsOn,
            maxAttempts: t.maxAttempts,
            nodeSelector: t.nodeSelector,
            priority: t.priority,
          })),
        };
      };
      const yamlView = await view(fromYaml.id);
      expect(yamlView.tasks).toHaveLength(3);
      expect(await view(fromBuilder.id)).toEqual(yamlView);

      // ValidateWorkflow normalizes both to the same definition (the
      // YAML travels as text, the builder's workflow as a document).
      const yamlValid = await api.validateWorkflow(yaml);
      const builderValid = await api.validateWorkflow(nightlyReport);
      expect(yamlValid.problems).toEqual([]);
      expect(yamlValid.valid).toBe(true);
      expect(builderValid.definition).toEqual(yamlValid.definition);
      expect(yamlValid.definition).toEqual(yamlStored.definition);

      // Registered, the builder's workflow is the YAML's version: the
      // server finds the same digest and makes no new version.
      const first = await api.registerWorkflow(yaml);
      const second = await api.registerWorkflow(nightlyReport);
      expect(first.created).toBe(true);
      expect(second.created).toBe(false);
      expect(second.workflow?.version).toBe(first.workflow?.version);
      expect(second.workflow?.digest).toBe(first.workflow?.digest);
      expect(second.workflow?.definition).toEqual(yamlStored.definition);
    });
  },
);
