import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogger } from "../support/capture-logger.js";
import {
  type CuttableProxy,
  controlPlaneBehindProxy,
} from "../support/cuttable-proxy.js";
import { pollUntil } from "../support/poll-until.js";
import type { TestControlPlane } from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import {
  type GrpcJsClient,
  grpcJsClient,
  loadGrpcPackage,
} from "./grpc-js-client.js";

const postgres = testBackends().find((b) => b.name === "postgres");

describe.skipIf(postgres === undefined)(
  "grpc.health.v1 of a control plane whose PostgreSQL goes away",
  () => {
    let proxy: CuttableProxy;
    let cp: TestControlPlane;
    let health: GrpcJsClient;
    const log = captureLogger("info");

    beforeAll(async () => {
      ({ proxy, cp } = await controlPlaneBehindProxy(
        postgres as NonNullable<typeof postgres>,
        { logger: log.logger },
      ));
      const pkg = loadGrpcPackage(["grpc/health/v1/health.proto"]);
      health = grpcJsClient(pkg, "grpc.health.v1.Health", cp.url);
    });

    afterAll(async () => {
      health?.close();
      if (proxy?.isOpen === false) await proxy.open();
      await cp?.close();
      await proxy?.cut();
    });

    const check = async (service = "") =>
      String((await health.unary("Check", { service })).status);
    const until = (status: string, what: string) =>
      pollUntil(
        async () => ((await check()) === status ? true : undefined),
        what,
      );
    const transitions = () =>
      log.lines().filter((line) => String(line.msg).includes(": health is "));

    it("says NOT_SERVING while the database is unreachable and SERVING once it answers, logging each change once", async () => {
      const watched: string[] = [];
      const stream = health.serverStream("Watch", { service: "" });
      const watching = (async () => {
        for await (const answer of stream) watched.push(String(answer.status));
      })().catch(() => {});
      expect(await check()).toBe("SERVING");

      await proxy.cut();
      await until("NOT_SERVING", "health saying NOT_SERVING in the outage");
      expect(await check("deerflow.v1.RunService")).toBe("NOT_SERVING");
      // Several lease sweeps fail meanwhile (one each 500 ms); the loss
      // is logged for the first only.
      await new Promise((resolve) => setTimeout(resolve, 1500));

      await proxy.open();
      await until("SERVING", "health saying SERVING once the database is back");
      await pollUntil(
        () => (watched.at(-1) === "SERVING" ? true : undefined),
        "Watch reporting SERVING again",
      );
      stream.cancel();
      await watching;
      expect(watched).toEqual(["SERVING", "NOT_SERVING", "SERVING"]);

      const [lost, back, ...more] = transitions();
      expect(more).toEqual([]);
      expect(lost).toMatchObject({
        level: 40,
        msg: "database lost: health is NOT_SERVING",
        reason: "failed",
      });
      expect(String(lost?.error)).toMatch(/ECONNREFUSED|ECONNRESET|CONNECT/);
      expect(back).toMatchObject({
        level: 30,
        msg: "database answers again: health is SERVING",
      });
      expect(back?.failures).toBeGreaterThan(1);
    });
  },
);
