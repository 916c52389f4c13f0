/** Small HTTP helpers of the Kubernetes API stand-in. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { failure, type StatusReply } from "./stand-in-status.js";

type Json = Record<string, unknown>;

const MAX_BODY_BYTES = 1024 * 1024;

/** A 200 with `body`. */
export function ok(body: Json): StatusReply {
  return { code: 200, body };
}

/** A 405, as for a verb the resource does not support. */
export function methodNotAllowed(): StatusReply {
  return failure(
    405,
    "MethodNotAllowed",
    "the server does not allow this method on the requested resource",
  );
}

/** Sends a JSON reply (or ends a response already streaming). */
export function send(res: ServerResponse, code: number, body: Json): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(code, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** A JSON object (not null, not an array). */
export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The JSON body, undefined when empty, a string when not JSON. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
