import { once } from "node:events";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { type ServiceError, status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { RunService } from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import { curl } from "./curl.js";
import {
  type GrpcJsClient,
  type GrpcMessage,
  grpcJsClient,
  loadGrpcPackage,
} from "./grpc-js-client.js";
import { toStruct } from "./struct-value.js";

// No agent carries this label, so the run stays open and so do its
// watchers.
const UNPLACEABLE = {
  name: "shutdown",
  tasks: [
    {
      id: "a",
      type: "shell",
      command: "echo never",
      node_selector: { pool: "nowhere" },
    },
  ],
};

describe.each(testBackends())("shutting down on $name", (backend) => {
  let cp: TestControlPlane | undefined;
  let runs: GrpcJsClient | undefined;

  afterEach(async () => {
    runs?.close();
    await stopAllAgents();
    await cp?.close();
  });

  it("close() resolves with open watches and an agent session", async () => {
    const plane = await startTestControlPlane(backend);
    cp = plane;
    await spawnAgent({ serverUrl: plane.url, name: "bystander" });
    await waitForAgents(plane.clients, ["bystander"]);
    const pkg = loadGrpcPackage(["deerflow/v1/run.proto"]);
    runs = grpcJsClient(pkg, "deerflow.v1.RunService", plane.url);
    const started = await runs.unary("StartRun", {
      definition: { document: toStruct(UNPLACEABLE) },
    });
    const runId = String((started.run as GrpcMessage).id);

    // One watch over HTTP/2 (grpc-js) and one over HTTP/1.1 (gRPC-Web).
    const h2Watch = runs.serverStream("WatchRun", { run_id: runId });
    const h2Settled = settled(h2Watch);
    await once(h2Watch, "data");
    const web = createClient(
      RunService,
      createGrpcWebTransport({ baseUrl: plane.url }),
    );
    const h1Events = web.watchRun({ runId })[Symbol.asyncIterator]();
    expect((await h1Events.next()).done).toBe(false);
    const h1Settled = drain(h1Events);

    cp = undefined;
    await expect(plane.close()).resolves.toBeUndefined();
    // Both watches were cut rather than left hanging, and neither looks
    // like a watch that ended because its run did. The HTTP/2 caller
    // reads Unavailable and knows to try again (at another replica).
    // The HTTP/1.1 connection is cut without a gRPC-Web trailer, which
    // connect-web reads as Unknown. WatchRun ends with its signal's
    // reason, so a trailer saying Unavailable only needs close() to
    // abort connectNodeAdapter's shutdownSignal with that reason before
    // it cuts connections.
    expect(await h2Settled).toBe(status.UNAVAILABLE);
    expect(await h1Settled).not.toBe("ended");
    // And the port no longer answers.
    await expect(curl(`${plane.url}/`)).rejects.toThrow();
  });
});

/** Reads a Connect stream to its end: "ended", or the error's code. */
async function drain(events: AsyncIterator<unknown>): Promise<string> {
  try {
    while (!(await events.next()).done) {}
    return "ended";
  } catch (error) {
    return Code[ConnectError.from(error).code];
  }
}

/** The status a grpc-js stream ended with ("ended" for a clean end). */
function settled(stream: NodeJS.EventEmitter): Promise<status | "ended"> {
  return new Promise((resolve) => {
    stream.once("end", () => resolve("ended"));
    stream.once("error", (e: ServiceError) => resolve(e.code));
  });
}
