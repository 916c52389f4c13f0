import type { Writable } from "node:stream";
import type { Client } from "@connectrpc/connect";
import {
  type Run,
  type RunService,
  RunState,
  TaskState,
} from "../gen/deerflow/v1/run_pb.js";
import { formatTable } from "./format-table.js";

/**
 * Follows a run's events to its end, writing one line per task state
 * change, then returns the finished run.
 */
export async function followRun(
  runs: Client<typeof RunService>,
  runId: string,
  out: Writable,
  signal?: AbortSignal,
): Promise<Run> {
  const started = Date.now();
  const stamp = () =>
    `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
  for await (const { event } of runs.watchRun({ runId }, { signal })) {
    if (event?.kind.case === "taskStateChanged") {
      const t = event.kind.value;
      const attempt = t.attempt > 0 ? ` attempt ${t.attempt}` : "";
      const error = t.error ? `  ${firstLine(t.error)}` : "";
      out.write(
        `${stamp()}  ${t.taskId.padEnd(24)} ${TaskState[t.state].padEnd(15)}${attempt}${error}\n`,
      );
    } else if (event?.kind.case === "runStateChanged") {
      const r = event.kind.value;
      out.write(
        `${stamp()}  run ${RunState[r.state]}${r.error ? `: ${r.error}` : ""}\n`,
      );
    }
  }
  const { run } = await runs.getRun({ runId });
  if (!run) throw new Error(`run ${runId} vanished`);
  return run;
}

/** Each task's final state, its agent and the error, as a table. */
export function formatTaskTable(run: Run): string {
  const rows = run.tasks.map((t) => [
    t.id,
    TaskState[t.state],
    String(t.attemptCount),
    t.agentName || "-",
    t.error ? firstLine(t.error) : shortOutput(t.output),
  ]);
  return formatTable(
    ["TASK", "STATE", "ATTEMPTS", "AGENT", "OUTPUT OR ERROR"],
    rows,
  );
}

/** The output without process tails, on one line, cut to fit. */
function shortOutput(output: Record<string, unknown> | undefined): string {
  if (!output) return "";
  const { stdout: _out, stderr: _err, exit_code: _code, ...rest } = output;
  const text = Object.keys(rest).length > 0 ? JSON.stringify(rest) : "";
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
}
