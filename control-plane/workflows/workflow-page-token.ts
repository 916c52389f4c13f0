import { Code, ConnectError } from "@connectrpc/connect";
import { isWorkflowName } from "./workflow-name.js";

/**
 * Where the next page of ListWorkflows starts: after a name (the list of
 * latest versions, by name) or below a version (every version of one
 * name, newest first). A token of one list is refused by the other.
 */
export type WorkflowPageToken =
  | { kind: "after_name"; name: string }
  | { kind: "below_version"; name: string; version: number };

/** Opaque to callers: base64url of JSON, as ListRuns' tokens are opaque. */
export function encodeWorkflowPageToken(token: WorkflowPageToken): string {
  return Buffer.from(JSON.stringify(token)).toString("base64url");
}

/**
 * Reads a token this server issued for the same list (`name` is the
 * request's name filter, "" for the list of latest versions). Anything
 * else is InvalidArgument naming page_token.
 */
export function decodeWorkflowPageToken(
  raw: string,
  name: string,
): WorkflowPageToken {
  const token = parse(raw);
  if (name === "" && token?.kind === "after_name") return token;
  if (name !== "" && token?.kind === "below_version" && token.name === name) {
    return token;
  }
  throw new ConnectError(
    "page_token: is not a token this server issued for this list",
    Code.InvalidArgument,
  );
}

/** Versions travel as int32. */
const MAX_INT32 = 2_147_483_647;

function parse(raw: string): WorkflowPageToken | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, "base64url").toString());
  } catch {
    return undefined;
  }
  const token = value as Partial<Record<string, unknown>> | null;
  if (typeof token !== "object" || token === null) return undefined;
  // A forged name must not reach a query: only names a workflow can have.
  if (typeof token.name !== "string" || !isWorkflowName(token.name)) {
    return undefined;
  }
  if (token.kind === "after_name") {
    return { kind: "after_name", name: token.name };
  }
  if (
    token.kind === "below_version" &&
    Number.isInteger(token.version) &&
    (token.version as number) > 0 &&
    (token.version as number) <= MAX_INT32
  ) {
    return {
      kind: "below_version",
      name: token.name,
      version: token.version as number,
    };
  }
  return undefined;
}
