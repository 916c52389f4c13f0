import type { TaskContext } from "../../plugin-sdk/index.js";

/** The parts of a task context a process environment is built from. */
export type EnvironmentSource = Pick<
  TaskContext,
  "runId" | "taskId" | "attempt" | "workDir" | "env" | "resources"
>;

/**
 * The environment of a task's process: the agent's own environment, then
 * `DEERFLOW_*` facts about the attempt, then the task's `env`, then the
 * plugin's `overrides` (its config `env` and the variables it must own).
 * Allocated GPUs are handed over as `CUDA_VISIBLE_DEVICES`; with none
 * allocated the variable is left as the agent has it.
 */
export function taskEnvironment(
  ctx: EnvironmentSource,
  overrides: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DEERFLOW_RUN_ID: ctx.runId,
    DEERFLOW_TASK_ID: ctx.taskId,
    DEERFLOW_ATTEMPT: String(ctx.attempt),
    DEERFLOW_WORK_DIR: ctx.workDir,
  };
  if (ctx.resources.gpuIndexes.length > 0) {
    env.CUDA_VISIBLE_DEVICES = ctx.resources.gpuIndexes.join(",");
  }
  return { ...env, ...ctx.env, ...overrides };
}
