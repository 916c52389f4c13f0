import net from "node:net";
import { fileURLToPath } from "node:url";
import { ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RunState, TaskState } from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { startInline, waitForRun } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

const EXAMPLE_PLUGINS = fileURLToPath(
  new URL("../../examples/plugins", import.meta.url),
);

describe.each(testBackends())(
  "a user's plugin loaded from disk on $name",
  (backend) => {
    let cp: TestControlPlane;
    let service: net.Server;
    let port: number;
    beforeEach(async () => {
      cp = await startTestControlPlane(backend);
      service = net.createServer((socket) => socket.end());
      await new Promise<void>((resolve) =>
        service.listen(0, "127.0.0.1", resolve),
      );
      port = (service.address() as net.AddressInfo).port;
    });
    afterEach(async () => {
      await stopAllAgents();
      await cp.close();
      await new Promise((resolve) => service.close(resolve));
    });

    it("runs the example port_sensor task type an agent loaded with --plugins", async () => {
      await spawnAgent({
        serverUrl: cp.url,
        name: "sensor-host",
        args: ["--plugins", EXAMPLE_PLUGINS],
      });
      await waitForAgents(cp.clients, ["sensor-host"]);
      const { agent } = await cp.clients.agents.getAgent({
        agent: "sensor-host",
      });
      expect(agent?.taskTypes.map((t) => t.type)).toContain("port_sensor");

      const runId = await startInline(cp.clients, {
        name: "wait-then-run",
        tasks: [
          {
            id: "wait",
            type: "port_sensor",
            host: "127.0.0.1",
            port,
            interval_ms: 20,
          },
          {
            id: "after",
            type: "shell",
            command: "echo the port was open",
            depends_on: ["wait"],
          },
        ],
      });
      const run = await waitForRun(cp.clients, runId);
      expect(run.state).toBe(RunState.SUCCESS);
      const wait = run.tasks.find((t) => t.id === "wait");
      expect(wait?.state).toBe(TaskState.SUCCESS);
      expect(wait?.output?.host).toBe("127.0.0.1");
      expect(wait?.output?.port).toBe(port);
    });

    it("rejects at submit a task whose config breaks the loaded type's schema, naming the field", async () => {
      await spawnAgent({
        serverUrl: cp.url,
        name: "sensor-host",
        args: ["--plugins", EXAMPLE_PLUGINS],
      });
      await waitForAgents(cp.clients, ["sensor-host"]);
      const error = await startInline(cp.clients, {
        name: "bad-sensor",
        tasks: [
          {
            id: "wait",
            type: "port_sensor",
            host: "127.0.0.1",
            port: "eighty",
          },
        ],
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).rawMessage).toMatch(/wait.*config\.port/s);
    });
  },
);
