import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationProblemsSchema } from "../../gen/deerflow/v1/common_pb.js";
import { RunView } from "../../gen/deerflow/v1/run_pb.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const V1 = {
  name: "report",
  params: { date: "2026-12-01", region: "eu" },
  tasks: [{ id: "make", type: "shell", command: "make ${params.date}" }],
};

const V2 = {
  ...V1,
  tasks: [
    ...V1.tasks,
    {
      id: "send",
      type: "shell",
      depends_on: ["make"],
      command: "send ${params.region}",
    },
  ],
};

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

describe.each(testBackends())(
  "StartRun by workflow_ref on $name",
  (backend) => {
    let cp: TestControlPlane;

    beforeAll(async () => {
      cp = await startTestControlPlane(backend);
      for (const definition of [V1, V2]) {
        await cp.clients.workflows.registerWorkflow({
          definition: {
            source: { case: "document", value: definition as JsonObject },
          },
        });
      }
    });

    afterAll(async () => {
      await cp?.close();
    });

    function startByRef(
      name: string,
      version = 0,
      more: { params?: JsonObject; idempotencyKey?: string } = {},
    ) {
      return cp.clients.runs.startRun({
        workflow: { case: "workflowRef", value: { name, version } },
        ...more,
      });
    }

    it("starts the latest version and records its name and number", async () => {
      const { run, created } = await startByRef("report");
      expect(created).toBe(true);
      expect(run).toMatchObject({ workflowName: "report", workflowVersion: 2 });
      expect(run?.tasks.map((t) => t.id)).toEqual(["make", "send"]);
      expect(run?.params).toEqual({ date: "2026-12-01", region: "eu" });
      const { run: again } = await cp.clients.runs.getRun({
        runId: run?.id ?? "",
      });
      expect(again).toMatchObject({
        workflowName: "report",
        workflowVersion: 2,
      });
    });

    it("starts a pinned version with its own definition", async () => {
      const { run } = await startByRef("report", 1);
      expect(run).toMatchObject({ workflowName: "report", workflowVersion: 1 });
      expect(run?.tasks.map((t) => t.id)).toEqual(["make"]);
    });

    it("lets params override the defaults, as for inline runs", async () => {
      const { run } = await startByRef("report", 0, {
        params: { region: "us" },
      });
      expect(run?.params).toEqual({ date: "2026-12-01", region: "us" });
    });

    it("refuses an undeclared param with the inline problem shape", async () => {
      const error = await refused(
        startByRef("report", 1, { params: { dryrun: true } }),
      );
      expect(error.code).toBe(Code.InvalidArgument);
      const [details] = error.findDetails(ValidationProblemsSchema);
      expect(details?.problems.map((p) => p.field)).toEqual(["params.dryrun"]);
      expect(error.rawMessage).toMatch(/^params\.dryrun: /m);
    });

    it("keeps idempotency keys working", async () => {
      const first = await startByRef("report", 1, { idempotencyKey: "k-ref" });
      const second = await startByRef("report", 1, { idempotencyKey: "k-ref" });
      expect(first.created).toBe(true);
      expect(second.created).toBe(false);
      expect(second.run?.id).toBe(first.run?.id);
      const reused = await refused(
        startByRef("report", 1, {
          idempotencyKey: "k-ref",
          params: { region: "us" },
        }),
      );
      expect(reused.code).toBe(Code.AlreadyExists);
      const otherVersion = await refused(
        startByRef("report", 2, { idempotencyKey: "k-ref" }),
      );
      expect(otherVersion.code).toBe(Code.AlreadyExists);
      expect(otherVersion.rawMessage).toBe(
        `idempotency_key: "k-ref" already started run ${first.run?.id} with version 1 of the workflow`,
      );
      for (const [key, says] of [
        ["k".repeat(257), "must be at most 256 characters, got 257"],
        ["   ", "must not be only whitespace"],
        ["a\u0000b", "holds a NUL character"],
      ]) {
        const bad = await refused(
          startByRef("report", 1, { idempotencyKey: key }),
        );
        expect(bad.code).toBe(Code.InvalidArgument);
        expect(bad.rawMessage).toContain(`idempotency_key: ${says}`);
      }
      expect(reused.rawMessage).toBe(
        `idempotency_key: "k-ref" already started run ${first.run?.id} with different params`,
      );
    });

    it("answers NotFound naming an unknown name or version", async () => {
      const noName = await refused(startByRef("nightly"));
      expect(noName.code).toBe(Code.NotFound);
      expect(noName.rawMessage).toBe("workflow nightly not found");
      const noVersion = await refused(startByRef("report", 7));
      expect(noVersion.code).toBe(Code.NotFound);
      expect(noVersion.rawMessage).toBe(
        "workflow report version 7 not found (the latest is version 2)",
      );
    });

    it("answers InvalidArgument naming workflow_ref fields", async () => {
      const noName = await refused(startByRef(""));
      expect(noName.code).toBe(Code.InvalidArgument);
      expect(noName.rawMessage).toBe("workflow_ref.name: is required");
      const negative = await refused(startByRef("report", -2));
      expect(negative.code).toBe(Code.InvalidArgument);
      expect(negative.rawMessage).toMatch(/^workflow_ref\.version: /);
    });

    it("lists the runs of a registered workflow by its name", async () => {
      const { runs } = await cp.clients.runs.listRuns({
        workflowName: "report",
      });
      // Latest, pinned, overridden, idempotent: four runs were stored.
      expect(runs).toHaveLength(4);
      expect(new Set(runs.map((r) => r.workflowVersion))).toEqual(
        new Set([1, 2]),
      );
    });

    it("answers in the view asked for: basic leaves the tasks out", async () => {
      const { run } = await cp.clients.runs.startRun({
        workflow: { case: "workflowRef", value: { name: "report" } },
        view: RunView.BASIC,
      });
      expect(run?.tasks).toEqual([]);
      expect(run?.taskCounts).toEqual({ QUEUED: 1, CREATED: 1 });
      const runId = run?.id ?? "";
      const basic = await cp.clients.runs.getRun({
        runId,
        view: RunView.BASIC,
      });
      expect(basic.run?.tasks).toEqual([]);
      expect(basic.run?.state).toBe(run?.state);
      for (const view of [RunView.FULL, RunView.UNSPECIFIED]) {
        const full = await cp.clients.runs.getRun({ runId, view });
        expect(full.run?.tasks.map((t) => t.id)).toEqual(["make", "send"]);
      }
    });

    it("refuses an unknown view, naming it, before starting a run", async () => {
      const before = await cp.clients.runs.listRuns({ workflowName: "report" });
      const error = await refused(
        cp.clients.runs.startRun({
          workflow: { case: "workflowRef", value: { name: "report" } },
          view: 9 as RunView,
        }),
      );
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toMatch(/^view: unknown view 9/);
      const after = await cp.clients.runs.listRuns({ workflowName: "report" });
      expect(after.runs).toHaveLength(before.runs.length);
    });
  },
);
