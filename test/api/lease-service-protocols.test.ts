import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import { connectJsonPost, curl } from "./curl.js";
import {
  type GrpcJsClient,
  grpcError,
  grpcJsClient,
  loadGrpcPackage,
} from "./grpc-js-client.js";

describe.each(testBackends())(
  "LeaseService over grpc-js and curl, on $name",
  (backend) => {
    let cp: TestControlPlane;
    let leases: GrpcJsClient;
    let health: GrpcJsClient;

    beforeAll(async () => {
      cp = await startTestControlPlane(backend);
      const pkg = loadGrpcPackage([
        "deerflow/v1/lease.proto",
        "deerflow/v1/agent.proto",
        "grpc/health/v1/health.proto",
      ]);
      leases = grpcJsClient(pkg, "deerflow.v1.LeaseService", cp.url);
      health = grpcJsClient(pkg, "grpc.health.v1.Health", cp.url);
    });

    afterAll(async () => {
      leases?.close();
      health?.close();
      await cp?.close();
    });

    it("lists no leases of a fresh control plane", async () => {
      expect(await leases.unary("ListLeases", {})).toMatchObject({
        leases: [],
      });
      const res = await curl(
        `${cp.url}/deerflow.v1.LeaseService/ListLeases`,
        connectJsonPost({}),
      );
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({});
    });

    it("refuses an AcquireLease without a worker, naming the field", async () => {
      const error = await grpcError(leases.unary("AcquireLease", {}));
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(error.details).toBe("worker: is required");
      const res = await curl(
        `${cp.url}/deerflow.v1.LeaseService/AcquireLease`,
        connectJsonPost({ waitMs: 10 }),
      );
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({
        code: "invalid_argument",
        message: "worker: is required",
      });
    });

    it("answers an idle polling worker with no assignment, and keeps serving", async () => {
      const answer = await leases.unary("AcquireLease", {
        worker: {
          agent_id: "grpc-js-poller",
          name: "poller",
          slots: 1,
          task_types: [{ type: "polled" }],
        },
        wait_ms: 50,
      });
      expect(answer.assignment).toBeFalsy();
      expect(await health.unary("Check", {})).toMatchObject({
        status: "SERVING",
      });
    });
  },
);
