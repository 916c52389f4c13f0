import { toJson } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import {
  type LogLine,
  LogLineSchema,
  type RunService,
} from "../gen/deerflow/v1/run_pb.js";
import type { JsonObject } from "../plugin-sdk/index.js";

/** The most lines the server sends in one answer (MAX_LOG_LIMIT). */
const PAGE = 5000;

/**
 * Every stored line of a task, or of one attempt of it, page by page.
 * The server takes a cursor only within an attempt, so every attempt is
 * read on its own, in order.
 */
export async function* readTaskLogLines(
  runs: Client<typeof RunService>,
  runId: string,
  taskId: string,
  attempt: number,
): AsyncIterable<LogLine> {
  let attempts = [attempt];
  if (attempt === 0) {
    const { task } = await runs.getTask({ runId, taskId });
    attempts = task?.attempts.map((a) => a.number) ?? [];
  }
  for (const number of attempts) {
    let after = 0n;
    for (;;) {
      const { lines } = await runs.getTaskLogs({
        runId,
        taskId,
        attempt: number,
        afterSequence: after,
        limit: PAGE,
      });
      yield* lines;
      const last = lines.at(-1);
      if (!last || lines.length < PAGE) break;
      after = last.sequence;
    }
  }
}

/** A task's lines as FollowTaskLogs streams them, one at a time. */
export async function* followTaskLogLines(
  runs: Client<typeof RunService>,
  request: { runId: string; taskId: string; attempt: number },
): AsyncIterable<LogLine> {
  for await (const { lines } of runs.followTaskLogs(request)) yield* lines;
}

/**
 * A line for people: process output as it was written, a plugin's log
 * line with its level and fields.
 */
export function formatLogLine(line: LogLine): string {
  if (line.stream !== "log") return line.message;
  const fields =
    line.fields && Object.keys(line.fields).length > 0
      ? ` ${JSON.stringify(line.fields)}`
      : "";
  return `${line.level.toUpperCase()} ${line.message}${fields}`;
}

/** A line as JSON for scripts: proto field names, time in RFC 3339. */
export function logLineToJson(line: LogLine): JsonObject {
  const json = toJson(LogLineSchema, line, {
    useProtoFieldName: true,
    alwaysEmitImplicit: true,
  }) as JsonObject;
  if (line.time) json.time = timestampDate(line.time).toISOString();
  return json;
}
