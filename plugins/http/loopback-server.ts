/**
 * A small HTTP(S) server on 127.0.0.1 for the http plugin's tests and
 * conformance cases: routes by path, and a count of the connections it
 * holds open, so a test can see that a stopped request closed its socket.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";

/** Answers one request; `body` is the request body as text. */
export type Route = (
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
) => void;

/** TLS settings of an https server, PEM text. */
export interface LoopbackTls {
  cert: string;
  key: string;
  /** With `requestCert`: the CAs a client certificate must chain to. */
  ca?: string;
  /** Ask for a client certificate and refuse connections without one. */
  requestCert?: boolean;
}

/** A running server. */
export interface LoopbackServer {
  /** "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT". */
  base: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  /** Closes every connection and the server. */
  close(): Promise<void>;
}

/** Starts a server on an ephemeral loopback port. */
export async function startLoopbackServer(
  routes: Record<string, Route>,
  tls?: LoopbackTls,
): Promise<LoopbackServer> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const route = routes[new URL(req.url ?? "/", "http://x").pathname];
      if (route) route(req, res, Buffer.concat(chunks).toString());
      else res.writeHead(404).end();
    });
  };
  const server: Server = tls
    ? createHttpsServer(
        {
          cert: tls.cert,
          key: tls.key,
          ...(tls.ca ? { ca: tls.ca } : {}),
          requestCert: tls.requestCert ?? false,
          rejectUnauthorized: tls.requestCert ?? false,
        },
        handler,
      )
    : createHttpServer(handler);
  const sockets = new Set<Socket>();
  let accepted = 0;
  server.on(tls ? "secureConnection" : "connection", (socket: Socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  // A refused client certificate must not take the server down.
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
