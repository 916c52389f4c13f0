import type { SparkApplicationStatus } from "./spark-application-status.js";

/** The REST gateway's answer: `"driverState" : "RUNNING"`. */
const REST_DRIVER_STATE = /"driverState"\s*:\s*"([A-Z_]+)"/;
/** The legacy client's answer: "State of driver-... is FINISHED". */
const LEGACY_DRIVER_STATE = /State of (?:driver )?\S+ is (?:now )?([A-Z_]+)/;
/** A Kubernetes driver pod: "phase: Running". */
const POD_PHASE = /\bphase:\s*([A-Z][a-z]+)/;

/** Standalone and Mesos driver states after which nothing changes. */
const DRIVER_FAILED = new Set(["FAILED", "KILLED", "ERROR"]);

/**
 * Reads what `spark-submit --status <id> --master <url>` printed: a
 * driver state on a standalone or Mesos cluster, a pod phase on
 * Kubernetes. Undefined when the output holds neither (an unknown
 * submission id, a gateway that did not answer).
 */
export function parseSubmitStatus(
  output: string,
): SparkApplicationStatus | undefined {
  const driver =
    REST_DRIVER_STATE.exec(output)?.[1] ??
    LEGACY_DRIVER_STATE.exec(output)?.[1];
  if (driver !== undefined) {
    const succeeded = driver === "FINISHED";
    return {
      state: driver,
      final: succeeded || DRIVER_FAILED.has(driver),
      succeeded,
    };
  }
  const phase = lastMatch(POD_PHASE, output);
  if (phase !== undefined) {
    return {
      state: phase,
      final: phase === "Succeeded" || phase === "Failed",
      succeeded: phase === "Succeeded",
    };
  }
  return undefined;
}

const YARN_STATE = /^\s*State\s*:\s*([A-Z_]+)\s*$/m;
const YARN_FINAL_STATE = /^\s*Final-State\s*:\s*([A-Z_]+)\s*$/m;
const YARN_ENDED = new Set(["FINISHED", "FAILED", "KILLED"]);

/**
 * Reads the report of `yarn application -status <id>`: its `State` and,
 * once the application ended, its `Final-State`. Undefined when the
 * report has no state.
 */
export function parseYarnStatus(
  output: string,
): SparkApplicationStatus | undefined {
  const state = YARN_STATE.exec(output)?.[1];
  if (state === undefined) return undefined;
  const finalState = YARN_FINAL_STATE.exec(output)?.[1];
  if (!YARN_ENDED.has(state)) return { state, final: false, succeeded: false };
  return {
    state: finalState === undefined ? state : `${state}/${finalState}`,
    final: true,
    succeeded: state === "FINISHED" && finalState === "SUCCEEDED",
  };
}

function lastMatch(pattern: RegExp, text: string): string | undefined {
  const global = new RegExp(pattern.source, "g");
  let last: string | undefined;
  for (const match of text.matchAll(global)) last = match[1];
  return last;
}
