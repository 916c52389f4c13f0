import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { withGrpcMessageTrailer } from "./grpc-message-trailer.js";

/** A request handler both HTTP versions share (connectNodeAdapter's). */
export type NodeHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface OnePortServer {
  readonly host: string;
  readonly port: number;
  /** Stops accepting, closes every open connection, and resolves. */
  close(): Promise<void>;
}

/** The first bytes of every HTTP/2 connection without TLS (RFC 9113 3.4). */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n");

/**
 * Serves gRPC, gRPC-Web and Connect on one plaintext port, to HTTP/2
 * clients (grpc-js, grpcurl, curl --http2-prior-knowledge) and HTTP/1.1
 * clients (curl, browsers) alike. Node 20 ignores allowHTTP1 without TLS,
 * so the first bytes of each connection pick the server.
 */
export async function serveOnePort(
  handler: NodeHandler,
  host: string,
  port: number,
): Promise<OnePortServer> {
  const h2 = http2.createServer({}, withGrpcMessageTrailer(handler));
  const h1 = http.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  const sockets = new Set<net.Socket>();
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.once("data", (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      const n = Math.min(chunk.length, H2_PREFACE.length);
      if (chunk.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) {
        // The HTTP/2 session reads the bytes already buffered itself.
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    });
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.listen(port, host, () => {
      front.off("error", reject);
      resolve();
    });
  });
  const address = front.address() as net.AddressInfo;
  return {
    host: address.address,
    port: address.port,
    async close() {
      const closed = new Promise<void>((resolve) =>
        front.close(() => resolve()),
      );
      for (const session of sessions) session.close();
      h1.closeAllConnections();
      // Streams that do not end on their own (watchers, agent sessions)
      // get a moment, then their connections are cut.
      const grace = setTimeout(() => {
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
      }, 1000);
      await closed;
      clearTimeout(grace);
    },
  };
}
