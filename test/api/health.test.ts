import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import {
  type GrpcJsClient,
  grpcError,
  grpcJsClient,
  loadGrpcPackage,
} from "./grpc-js-client.js";

describe.each(testBackends())("grpc.health.v1 on $name", (backend) => {
  let cp: TestControlPlane;
  let health: GrpcJsClient;

  beforeAll(async () => {
    cp = await startTestControlPlane(backend);
    const pkg = loadGrpcPackage(["grpc/health/v1/health.proto"]);
    health = grpcJsClient(pkg, "grpc.health.v1.Health", cp.url);
  });

  afterAll(async () => {
    health?.close();
    await cp?.close();
  });

  it("answers Check for the server as SERVING", async () => {
    const answer = await health.unary("Check", { service: "" });
    expect(answer.status).toBe("SERVING");
  });

  it("answers Check for one of its services as SERVING", async () => {
    const answer = await health.unary("Check", {
      service: "deerflow.v1.RunService",
    });
    expect(answer.status).toBe("SERVING");
  });

  it("answers NOT_FOUND for a service it does not serve", async () => {
    const failure = await grpcError(
      health.unary("Check", { service: "acme.Elsewhere" }),
    );
    expect(failure.code).toBe(status.NOT_FOUND);
    expect(failure.details).toContain('service: "acme.Elsewhere"');
  });

  it("streams the status on Watch until the caller cancels", async () => {
    const stream = health.serverStream("Watch", { service: "" });
    const answers = stream[Symbol.asyncIterator]();
    const first = await answers.next();
    expect(first.value).toMatchObject({ status: "SERVING" });
    const ended = grpcError(answers.next());
    stream.cancel();
    expect((await ended).code).toBe(status.CANCELLED);
  });
});
