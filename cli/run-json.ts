import { toJson } from "@bufbuild/protobuf";
import { type Run, RunSchema } from "../gen/deerflow/v1/run_pb.js";
import type { JsonObject } from "../plugin-sdk/index.js";

const ENUM_PREFIX = /^(RUN_STATE_|TASK_STATE_|ATTEMPT_OUTCOME_)/;

/**
 * A run as JSON for scripts: proto field names, states without their enum
 * prefix ("SUCCESS"), every task with its attempts, agent and output.
 */
export function runToJson(run: Run): JsonObject {
  const json = toJson(RunSchema, run, {
    useProtoFieldName: true,
    alwaysEmitImplicit: true,
  }) as JsonObject;
  stripState(json);
  for (const task of (json.tasks ?? []) as JsonObject[]) {
    stripState(task);
    for (const attempt of (task.attempts ?? []) as JsonObject[]) {
      stripState(attempt);
    }
  }
  return json;
}

function stripState(object: JsonObject): void {
  for (const key of ["state", "outcome"]) {
    const value = object[key];
    if (typeof value === "string") object[key] = value.replace(ENUM_PREFIX, "");
  }
}

/** A state enum's name without its prefix, for people. */
export function stateName(name: string): string {
  return name.replace(ENUM_PREFIX, "");
}
