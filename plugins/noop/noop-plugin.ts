import type {
  ExecuteResult,
  PluginSdk,
  TaskContext,
} from "../../plugin-sdk/index.js";
import { abortError } from "../process/index.js";
import { type NoopConfig, noopConfigSchema } from "./noop-config.js";

/**
 * The built-in `noop` task type: a task that does no work of its own. It
 * marks a point in a DAG (a join, a gate; Airflow calls it EmptyOperator),
 * stands in for real work while a workflow is drafted, and is the task the
 * benchmarks measure dispatch with, since nothing but the control plane's
 * path is left to time.
 */
export const noopPlugin = (sdk: PluginSdk) =>
  sdk.definePlugin<NoopConfig>({
    type: "noop",
    version: "1.0.0",
    description: "Does nothing (optionally after a wait) and succeeds.",
    configSchema: noopConfigSchema,
    execute: (ctx) => executeNoop(sdk, ctx),
  });
export default noopPlugin;

async function executeNoop(
  sdk: PluginSdk,
  ctx: TaskContext<NoopConfig>,
): Promise<ExecuteResult> {
  const { sleep_ms: sleepMs = 0, output } = ctx.config;
  if (!Number.isInteger(sleepMs) || sleepMs < 0) {
    // The control plane checks the schema at submit time, but a template
    // (`sleep_ms: ${params.wait}`) is only known once rendered here.
    throw new sdk.NonRetryableError(
      `sleep_ms: must be a whole number of milliseconds >= 0, got ${JSON.stringify(sleepMs)}`,
    );
  }
  if (output !== undefined && !isObject(output)) {
    throw new sdk.NonRetryableError("output: must be an object");
  }
  if (sleepMs > 0) {
    await sleep(sleepMs, ctx.signal);
    if (ctx.signal.aborted) throw abortError(sdk, ctx.signal, "noop");
  }
  // Without a wait, the signal is not read: the agent makes it on first
  // use, and an attempt aborted before it ran ends as its abort says
  // (killed, timed out, lost) whatever execute returns.
  if (output !== undefined) ctx.output(output);
  return {};
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Waits `ms`, or less when the signal aborts first; never rejects. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
