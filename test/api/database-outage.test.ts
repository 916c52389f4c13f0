import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DefinitionSchema } from "../../gen/deerflow/v1/workflow_pb.js";
import { captureLogger } from "../support/capture-logger.js";
import {
  type CuttableProxy,
  controlPlaneBehindProxy,
} from "../support/cuttable-proxy.js";
import { pollUntil } from "../support/poll-until.js";
import type { TestControlPlane } from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const DEFINITION = {
  name: "outage",
  tasks: [{ id: "a", type: "shell", command: "echo hi" }],
};

const postgres = testBackends().find((b) => b.name === "postgres");

describe.skipIf(postgres === undefined)(
  "a control plane whose PostgreSQL goes away",
  () => {
    let proxy: CuttableProxy;
    let cp: TestControlPlane;
    const log = captureLogger("info");

    beforeAll(async () => {
      ({ proxy, cp } = await controlPlaneBehindProxy(
        postgres as NonNullable<typeof postgres>,
        { logger: log.logger },
      ));
    });

    afterAll(async () => {
      if (proxy?.isOpen === false) await proxy.open();
      await cp?.close();
      await proxy?.cut();
    });

    const startRun = () =>
      cp.clients.runs.startRun({
        workflow: {
          case: "definition",
          value: create(DefinitionSchema, {
            source: { case: "document", value: DEFINITION },
          }),
        },
      });

    it("answers unavailable while it is gone, so callers know to retry, and serves again once it is back", async () => {
      const { run } = await startRun();
      await proxy.cut();

      for (const call of [
        () => startRun(),
        () => cp.clients.runs.getRun({ runId: run?.id ?? "" }),
        () => cp.clients.runs.listRuns({}),
      ]) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
        expect(error?.code, error?.message).toBe(Code.Unavailable);
      }

      // /metrics still answers, and says the database does not: its
      // gauges are left out rather than reported stale.
      const scrape = await (await fetch(`${cp.url}/metrics`)).text();
      expect(scrape).toMatch(/^deerflow_database_up 0$/m);
      expect(scrape).not.toMatch(
        /^deerflow_(tasks\{|runs_open |agents\{|leases_held )/m,
      );
      expect(scrape).toMatch(/^deerflow_agent_sessions 0$/m);

      // A connection attempt begun during the outage may still fail the
      // first call after it, with the same retryable code; a caller that
      // retries gets through.
      // The operator sees why, with the driver's own words.
      const failed = log
        .lines()
        .filter((line) => line.msg === "request failed");
      expect(failed.map((line) => line.procedure)).toEqual(
        expect.arrayContaining(["StartRun", "GetRun", "ListRuns"]),
      );
      expect(JSON.stringify(failed[0]?.err)).toMatch(/ECONNREFUSED|ECONNRESET/);

      // The lease sweep (every 500 ms) fails throughout; it says so once,
      // not with a stack every half second.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const sweepFailures = () =>
        log
          .lines()
          .filter((line) => String(line.msg).startsWith("lease sweep"));
      expect(sweepFailures().map((line) => line.msg)).toEqual([
        "lease sweep failed (logged again once a minute while it fails)",
      ]);

      await proxy.open();
      const again = await pollUntil(
        () =>
          startRun().catch((e: unknown) => {
            expect(ConnectError.from(e).code).toBe(Code.Unavailable);
            return undefined;
          }),
        "a StartRun after the database came back",
      );
      expect(again.run?.id).toMatch(/^[0-9a-f-]{36}$/);
      const read = await cp.clients.runs.getRun({ runId: run?.id ?? "" });
      expect(read.run?.workflowName).toBe("outage");
      await pollUntil(
        () =>
          sweepFailures().some((line) => line.msg === "lease sweep works again")
            ? true
            : undefined,
        "the lease sweep's recovery logged",
      );
      const recovered = sweepFailures().at(-1);
      expect(recovered?.failures).toBeGreaterThan(1);
      const back = await (await fetch(`${cp.url}/metrics`)).text();
      expect(back).toMatch(/^deerflow_database_up 1$/m);
      // The runs started before and after the outage wait in the queue.
      expect(back).toMatch(/^deerflow_tasks\{state="QUEUED"\} 2$/m);
    });
  },
);
