import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import {
  type GrpcJsClient,
  type GrpcMessage,
  grpcJsClient,
  loadGrpcPackage,
} from "./grpc-js-client.js";

// Agent sessions over plain gRPC skip connect-es (GrpcBidiRoute): a
// second gRPC implementation must read them as it reads connect-es.
describe.each(testBackends())(
  "an agent session over grpc-js on $name",
  (backend) => {
    let cp: TestControlPlane | undefined;
    let client: GrpcJsClient | undefined;

    afterEach(async () => {
      client?.close();
      await cp?.close();
    });

    /**
     * Opens a session as an agent and reads its welcome. With a deadline
     * the call carries grpc-timeout, and connect-es serves it.
     */
    async function openSession(url: string, agentId: string, deadline?: Date) {
      const pkg = loadGrpcPackage(["deerflow/v1/agent.proto"]);
      client = grpcJsClient(pkg, "deerflow.v1.AgentService", url);
      const session = client.bidiStream(
        "Session",
        deadline ? { deadline } : undefined,
      );
      const ended = new Promise<unknown>((resolve) => {
        session.on("error", resolve);
        session.on("end", () => resolve("end"));
      });
      session.write({
        hello: {
          agent_id: agentId,
          name: "grpc-js",
          version: "test",
          slots: 1,
          task_types: [{ type: "shell" }],
        },
      });
      const [welcome] = (await once(session, "data")) as [GrpcMessage];
      return { session, ended, welcome };
    }

    it("welcomes, answers a heartbeat, and ends a second hello with its status", async () => {
      cp = await startTestControlPlane(backend);
      const { session, ended, welcome } = await openSession(
        cp.url,
        "0f8fad5b-d9cb-469f-a165-70867728950e",
      );
      expect(welcome.message).toBe("welcome");

      session.write({ heartbeat: { leases: [] } });
      const [ack] = (await once(session, "data")) as [GrpcMessage];
      expect(ack.message).toBe("heartbeat_ack");

      session.write({ hello: { agent_id: "again" } });
      expect(await ended).toMatchObject({
        code: 3,
        details: "message: hello may only be the first message",
      });
    });

    it.each([
      ["the route that skips connect-es", undefined],
      ["connect-es (a session with a deadline)", 600_000],
    ])(
      "ends an open session with Unavailable when the control plane stops, on %s",
      async (_route, deadlineMs) => {
        const plane = await startTestControlPlane(backend);
        const { ended } = await openSession(
          plane.url,
          "7c9e6679-7425-40de-944b-e07fc1f90ae7",
          deadlineMs === undefined
            ? undefined
            : new Date(Date.now() + deadlineMs),
        );
        await plane.close();
        // Told why, not cut: an agent reads Unavailable as "try again".
        expect(await ended).toMatchObject({
          code: 14,
          details: "the control plane is stopping",
        });
      },
    );

    it("ends a session at its deadline", async () => {
      cp = await startTestControlPlane(backend);
      const { ended } = await openSession(
        cp.url,
        "9b2f3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        new Date(Date.now() + 3_000),
      );
      expect(await ended).toMatchObject({ code: 4 });
    });
  },
);
