import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import {
  type ContextValues,
  createContextKey,
  createContextValues,
  type HandlerContext,
} from "@connectrpc/connect";

const UNKNOWN = "unknown peer";

const PEER = createContextKey<string>(UNKNOWN, {
  description: "the caller's address and port",
});

/**
 * The caller's address as context values (connectNodeAdapter's
 * `contextValues`), so that a handler can say in its logs and errors
 * where a request came from.
 */
export function peerContextValues(
  request: IncomingMessage | Http2ServerRequest,
): ContextValues {
  const { remoteAddress, remotePort } = request.socket;
  if (remoteAddress === undefined) return createContextValues();
  const host = remoteAddress.includes(":")
    ? `[${remoteAddress}]`
    : remoteAddress;
  return createContextValues().set(PEER, `${host}:${remotePort}`);
}

/** The caller's "address:port", as peerContextValues found it. */
export function peerOf(context: HandlerContext): string {
  return context.values.get(PEER);
}
