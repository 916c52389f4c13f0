import { invalidArgument } from "./connect-errors.js";

/** Where the next page of ListRuns starts: below this run. */
export interface RunPageToken {
  createdAt: Date;
  id: string;
}

/** A page token names the last run of the page: its time and id. */
export function encodeRunPageToken(last: RunPageToken): string {
  const text = `${last.createdAt.toISOString()}|${last.id}`;
  return Buffer.from(text).toString("base64url");
}

/** Reads a token this server issued; anything else is InvalidArgument. */
export function decodeRunPageToken(token: string): RunPageToken {
  const text = Buffer.from(token, "base64url").toString();
  const [time = "", id = ""] = text.split("|");
  const createdAt = new Date(time);
  if (Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) {
    throw invalidArgument("page_token", "is not a token this server issued");
  }
  return { createdAt, id };
}
