import { connect, createServer, type Server, type Socket } from "node:net";
import { inject } from "vitest";
import type { ControlPlaneOptions } from "../../control-plane/index.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "./test-control-plane.js";
import type { TestBackend } from "./test-database.js";

/**
 * A TCP proxy on loopback between the control plane and PostgreSQL, so a
 * test can cut the database away (every connection reset, new ones
 * refused) and bring it back, as a failover or a network fault would.
 */
export class CuttableProxy {
  private server: Server | undefined;
  get isOpen(): boolean {
    return this.server !== undefined;
  }
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", resolve);
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error();
    this.port = address.port;
    this.server = server;
  }

  /** Resets every connection and refuses new ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.resetAndDestroy();
    await new Promise((resolve) => server?.close(resolve));
  }
}

/**
 * `backend`, whose fresh databases are made directly but reached only
 * through `proxy`: a control plane on one loses its database when the
 * proxy is cut.
 */
export function behindProxy(
  backend: TestBackend,
  proxy: CuttableProxy,
): TestBackend {
  return {
    name: backend.name,
    async create() {
      const database = await backend.create();
      const url = new URL(database.url ?? "");
      url.host = `127.0.0.1:${proxy.port}`;
      return { ...database, url: url.toString() };
    },
  };
}

/**
 * A proxy to the PostgreSQL server of `TEST_DATABASE_URL`, open, and a
 * control plane on a fresh database reached only through it.
 */
export async function controlPlaneBehindProxy(
  backend: TestBackend,
  options: ControlPlaneOptions = {},
): Promise<{ proxy: CuttableProxy; cp: TestControlPlane }> {
  const server = new URL(inject("testDatabaseUrl") ?? "");
  const proxy = new CuttableProxy({
    host: server.hostname,
    port: Number(server.port || 5432),
  });
  await proxy.open();
  const cp = await startTestControlPlane(behindProxy(backend, proxy), options);
  return { proxy, cp };
}
