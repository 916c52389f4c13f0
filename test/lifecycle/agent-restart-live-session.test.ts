import { connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AttemptOutcome,
  RunState,
  TaskState,
} from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import {
  killTrackedRunProcesses,
  trackRunProcesses,
} from "../support/run-processes.js";
import { firstAttemptHangs, startInline } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import { waitForRunEnd, waitForTaskState } from "../support/watch-run.js";

/**
 * Longer than the test may take: only the restarted agent's hello, not
 * the lease's expiry, can end the killed agent's attempt in time.
 */
const LEASE_TTL_MS = 600_000;

/**
 * A TCP proxy on loopback that never passes on a client's close: when
 * the agent behind it dies, the control plane's side of its stream stays
 * open, as when a host or a container's network dies without a word. The
 * session looks live until the agent's hello says otherwise.
 */
class SilentOnCloseProxy {
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  url = "";

  async open(target: URL): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("error", () => {});
      }
      client.pipe(upstream, { end: false });
      upstream.on("data", (chunk: Buffer) => {
        if (!client.destroyed) client.write(chunk);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    const address = server.address();
    if (address === null || typeof address === "string") {
      throw new Error("the proxy has no port");
    }
    this.url = `http://127.0.0.1:${address.port}`;
    this.server = server;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const [pglite] = testBackends();

describe("an agent restarted while its killed process's session looks live", () => {
  let cp: TestControlPlane;
  let proxy: SilentOnCloseProxy;
  beforeEach(async () => {
    if (!pglite) throw new Error("no PGlite backend");
    cp = await startTestControlPlane(pglite, { leaseTtlMs: LEASE_TTL_MS });
    proxy = new SilentOnCloseProxy();
    await proxy.open(new URL(cp.url));
  });
  afterEach(async () => {
    await stopAllAgents();
    await killTrackedRunProcesses();
    await proxy.close();
    await cp.close();
  });

  it("ends the attempt it no longer runs as LOST at its hello, and the retry runs", async () => {
    const killed = await spawnAgent({
      serverUrl: proxy.url,
      name: "phoenix",
      slots: 1,
    });
    await waitForAgents(cp.clients, ["phoenix"]);
    const runId = await startInline(
      cp.clients,
      firstAttemptHangs("restart-live-session"),
    );
    trackRunProcesses(runId);
    await waitForTaskState(cp.clients, runId, "work", TaskState.RUNNING, 1);

    killed.kill("SIGKILL");
    expect(await killed.exited).toBe("SIGKILL");
    // On its state dir, straight to the control plane: its lock names the
    // killed process's token, and its hello says so.
    await spawnAgent({
      serverUrl: cp.url,
      name: "phoenix",
      slots: 1,
      stateDir: killed.stateDir,
    });

    const run = await waitForRunEnd(cp.clients, runId);
    expect(run.state, run.error).toBe(RunState.SUCCESS);
    const [task] = run.tasks;
    expect(task?.output).toMatchObject({ attempt: 2 });
    expect(
      task?.attempts.map((a) => [a.number, AttemptOutcome[a.outcome], a.error]),
    ).toEqual([
      [1, "LOST", "the agent came back without the attempt: it no longer runs"],
      [2, "SUCCESS", ""],
    ]);
  });
});
