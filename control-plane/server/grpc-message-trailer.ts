import type { OutgoingHttpHeaders } from "node:http";
import type http2 from "node:http2";
import type { NodeHandler } from "./serve-one-port.js";

/**
 * Percent-encodes a status message the way the gRPC HTTP/2 protocol
 * spells it: UTF-8, with only "%" and the bytes outside space..tilde
 * escaped, so ":" and "," travel as they are.
 */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * Wraps the HTTP/2 handler so the grpc-message trailer is encoded as the
 * gRPC spec spells it. connect-node escapes it with encodeURIComponent,
 * which also escapes ":" and ","; grpc-js decodes with decodeURI, which
 * leaves those escapes in place, so a grpc-js caller read
 * "run_id%3A is required" instead of "run_id: is required". Both sides
 * are within the letter of the spec; sending the minimal form makes
 * every client read the same text.
 */
export function withGrpcMessageTrailer(handler: NodeHandler): NodeHandler {
  return (req, res) => {
    const h2 = res as http2.Http2ServerResponse;
    const addTrailers = h2.addTrailers.bind(h2);
    h2.addTrailers = (headers: OutgoingHttpHeaders) => {
      const message = headers["grpc-message"];
      if (typeof message === "string") {
        headers["grpc-message"] = encodeGrpcMessage(safeDecode(message));
      }
      addTrailers(headers);
    };
    handler(req, res);
  };
}

/** The text of an escaped message; a malformed one is taken as text. */
function safeDecode(message: string): string {
  try {
    return decodeURIComponent(message);
  } catch {
    return message;
  }
}
