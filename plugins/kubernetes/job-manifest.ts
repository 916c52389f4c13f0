import type { V1Job, V1PodSpec } from "@kubernetes/client-node";
import type { JsonObject, JsonValue } from "../../plugin-sdk/index.js";
import type { JobSettings } from "./job-settings.js";
import { toLabelValue } from "./kube-names.js";

/** The attempt a Job runs. */
export interface JobAttempt {
  runId: string;
  taskId: string;
  attempt: number;
  /** The task's `env`, given to every container. */
  env: Record<string, string>;
}

/** Label (and annotation) keys that tie a Job and its pods to an attempt. */
export const ATTEMPT_LABELS = {
  runId: "deerflow.run_id",
  taskId: "deerflow.task_id",
  attempt: "deerflow.attempt",
} as const;

/**
 * The batch/v1 Job of one attempt: one pod, run to completion, labelled
 * with the attempt (labels hold a reduced form of the ids, annotations the
 * exact ones). Every container gets DEERFLOW_RUN_ID, DEERFLOW_TASK_ID,
 * DEERFLOW_ATTEMPT and the task's env, unless it sets the same names.
 * Secrets are not passed: they would be readable in the Job's spec.
 */
export function jobManifest(
  attempt: JobAttempt,
  settings: JobSettings,
  name: string,
): V1Job {
  const labels = {
    ...settings.labels,
    [ATTEMPT_LABELS.runId]: toLabelValue(attempt.runId),
    [ATTEMPT_LABELS.taskId]: toLabelValue(attempt.taskId),
    [ATTEMPT_LABELS.attempt]: String(attempt.attempt),
  };
  const annotations = {
    [ATTEMPT_LABELS.runId]: attempt.runId,
    [ATTEMPT_LABELS.taskId]: attempt.taskId,
    [ATTEMPT_LABELS.attempt]: String(attempt.attempt),
  };
  const env: Record<string, string> = {
    DEERFLOW_RUN_ID: attempt.runId,
    DEERFLOW_TASK_ID: attempt.taskId,
    DEERFLOW_ATTEMPT: String(attempt.attempt),
    ...attempt.env,
  };
  const spec = settings.podSpec;
  const podSpec: JsonObject = {
    ...spec,
    restartPolicy: spec.restartPolicy ?? "Never",
    containers: (spec.containers as JsonObject[]).map((c) => withEnv(c, env)),
  };
  if (settings.serviceAccount !== undefined) {
    podSpec.serviceAccountName = settings.serviceAccount;
  }
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, labels, annotations },
    spec: {
      backoffLimit: settings.backoffLimit,
      completions: 1,
      parallelism: 1,
      activeDeadlineSeconds: settings.activeDeadlineSeconds,
      ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished,
      template: {
        metadata: { labels, annotations },
        spec: podSpec as unknown as V1PodSpec,
      },
    },
  };
}

/** The container with `env` in front of its own variables. */
function withEnv(
  container: JsonObject,
  env: Record<string, string>,
): JsonObject {
  const own = Array.isArray(container.env) ? container.env : [];
  const ownNames = new Set(own.map((item) => nameOf(item)));
  const added = Object.entries(env)
    .filter(([name]) => !ownNames.has(name))
    .map(([name, value]) => ({ name, value }));
  return { ...container, env: [...added, ...own] };
}

function nameOf(item: JsonValue): string | undefined {
  return typeof item === "object" && item !== null && !Array.isArray(item)
    ? (item.name as string | undefined)
    : undefined;
}
