import type { JsonObject } from "../../plugin-sdk/index.js";
import type { TaskDefinition } from "../../workflow/index.js";

/** Rows inserted per statement; keeps large runs under parameter limits. */
export const INSERT_CHUNK = 500;

/** The row of a new task, CREATED. */
export function taskRow(
  runId: string,
  task: TaskDefinition,
  position: number,
  now: Date,
) {
  return {
    runId,
    taskId: task.id,
    position,
    name: task.name ?? "",
    type: task.type,
    state: "CREATED" as const,
    dependsOn: task.depends_on,
    spec: task as unknown as JsonObject,
    priority: task.priority ?? 0,
    nodeSelector: {
      ...(task.node_selector ?? {}),
      ...pythonVersionSelector(task),
    },
    maxAttempts: maxAttempts(task),
    createdAt: now,
  };
}

/** `retry.max_attempts` wins over the `retries` shorthand. */
export function maxAttempts(task: TaskDefinition): number {
  const fromRetry = task.retry?.max_attempts;
  if (typeof fromRetry === "number") return fromRetry;
  return (task.retries ?? 0) + 1;
}

/**
 * A python task's `python_version` as the label agents advertise for it
 * (`python3.11: "true"`), so only an agent with that interpreter claims
 * it. A templated version is known only on the agent, which says so.
 */
function pythonVersionSelector(task: TaskDefinition): Record<string, string> {
  const version =
    task.type === "python" ? task.config.python_version : undefined;
  if (typeof version !== "string" || !/^3\.\d+$/.test(version)) return {};
  return { [`python${version}`]: "true" };
}
