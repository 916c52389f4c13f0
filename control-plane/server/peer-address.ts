import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import {
  type ContextValues,
  createContextKey,
  createContextValues,
  type HandlerContext,
} from "@connectrpc/connect";

/** What a handler sees when the socket no longer knows its peer. */
export const UNKNOWN_PEER = "unknown peer";

const PEER = createContextKey<string>(UNKNOWN_PEER, {
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
  const peer = peerAddress(request);
  if (peer === undefined) return createContextValues();
  return createContextValues().set(PEER, peer);
}

/** The caller's "address:port" ("[address]:port" for IPv6), if known. */
export function peerAddress(
  request: IncomingMessage | Http2ServerRequest,
): string | undefined {
  const { remoteAddress, remotePort } = request.socket;
  if (remoteAddress === undefined) return undefined;
  const host = remoteAddress.includes(":")
    ? `[${remoteAddress}]`
    : remoteAddress;
  return `${host}:${remotePort}`;
}

/** The caller's "address:port", as peerContextValues found it. */
export function peerOf(context: HandlerContext): string {
  return context.values.get(PEER);
}
