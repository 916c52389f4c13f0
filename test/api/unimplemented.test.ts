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

/** RPCs the proto declares that later issues implement. */
const NOT_YET = [
  ["deerflow.v1.LeaseService", "ListLeases"],
  ["deerflow.v1.LeaseService", "AcquireLease"],
] as const;

describe.each(testBackends())("unimplemented RPCs on $name", (backend) => {
  let cp: TestControlPlane;
  const clients = new Map<string, GrpcJsClient>();
  const client = (service: string) => {
    const found = clients.get(service);
    if (!found) throw new Error(`no client for ${service}`);
    return found;
  };

  beforeAll(async () => {
    cp = await startTestControlPlane(backend);
    const pkg = loadGrpcPackage([
      "deerflow/v1/lease.proto",
      "deerflow/v1/secret.proto",
      "deerflow/v1/run.proto",
      "deerflow/v1/workflow.proto",
      "deerflow/v1/agent.proto",
      "grpc/health/v1/health.proto",
    ]);
    for (const service of new Set(NOT_YET.map(([s]) => s))) {
      clients.set(service, grpcJsClient(pkg, service, cp.url));
    }
    clients.set("health", grpcJsClient(pkg, "grpc.health.v1.Health", cp.url));
  });

  afterAll(async () => {
    for (const client of clients.values()) client.close();
    await cp?.close();
  });

  it.each(NOT_YET)("%s.%s answers Unimplemented over gRPC", async (s, m) => {
    const error = await grpcError(client(s).unary(m, {}));
    expect(error.code).toBe(status.UNIMPLEMENTED);
    expect(error.details).toContain(m);
  });

  it.each(NOT_YET)("%s.%s answers unimplemented to curl", async (s, m) => {
    const res = await curl(`${cp.url}/${s}/${m}`, connectJsonPost({}));
    expect(res.status).toBe(501);
    expect(res.json().code).toBe("unimplemented");
  });

  it("keeps serving after them", async () => {
    const answer = await client("health").unary("Check", {});
    expect(answer.status).toBe("SERVING");
  });
});
