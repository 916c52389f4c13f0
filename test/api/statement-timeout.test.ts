import { Code, ConnectError } from "@connectrpc/connect";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogger } from "../support/capture-logger.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const backend = testBackends().find((b) => b.name === "postgres");

describe.skipIf(backend === undefined)(
  "a control plane whose statement runs past --statement-timeout-ms",
  () => {
    let cp: TestControlPlane;
    /** Another session on the same database: it holds the lock. */
    let holder: postgres.Sql;
    const log = captureLogger("info");

    beforeAll(async () => {
      cp = await startTestControlPlane(backend as NonNullable<typeof backend>, {
        logger: log.logger,
        statementTimeoutMs: 1000,
      });
      holder = postgres(cp.database.url ?? "", { max: 1, onnotice: () => {} });
    });

    afterAll(async () => {
      await holder?.end();
      await cp?.close();
    });

    it("answers unavailable, saying the database statement timed out, and serves once the lock is gone", async () => {
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let locked = () => {};
      const isLocked = new Promise<void>((resolve) => {
        locked = resolve;
      });
      // ListWorkflows waits behind this lock, as a statement would behind
      // a migration, a VACUUM FULL or someone's forgotten transaction.
      const holding = holder.begin(async (tx) => {
        await tx`LOCK TABLE workflows IN ACCESS EXCLUSIVE MODE`;
        locked();
        await released;
      });
      try {
        await isLocked;
        // The client's own deadline only bounds the test when no
        // statement timeout cuts the wait.
        const error = await cp.clients.workflows
          .listWorkflows({}, { timeoutMs: 60_000 })
          .then(
            () => undefined,
            (e: unknown) => ConnectError.from(e),
          );
        expect(error?.code, error?.message).toBe(Code.Unavailable);
        expect(error?.rawMessage).toBe(
          "the database statement timed out (statement timeout)",
        );
      } finally {
        release();
        await holding;
      }
      // The operator sees it, with the database's own words.
      const failed = log
        .lines()
        .find(
          (line) =>
            line.msg === "request failed" && line.procedure === "ListWorkflows",
        );
      expect(JSON.stringify(failed?.err)).toMatch(/statement timeout/);
      const listed = await cp.clients.workflows.listWorkflows({});
      expect(listed.workflows).toEqual([]);
    });
  },
);
