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
 *
 * Last, the GPUs the attempt was allocated, as `CUDA_VISIBLE_DEVICES`
 * (empty with none: a task that asked for no GPU sees none, not those
 * allocated to others), with `CUDA_DEVICE_ORDER=PCI_BUS_ID` so CUDA
 * numbers them as nvidia-smi does, whose indexes these are. Neither can
 * be set by the task.
 */
export function taskEnvironment(
  ctx: EnvironmentSource,
  overrides: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DEERFLOW_RUN_ID: ctx.runId,
    DEERFLOW_TASK_ID: ctx.taskId,
    DEERFLOW_ATTEMPT: String(ctx.attempt),
    DEERFLOW_WORK_DIR: ctx.workDir,
    ...ctx.env,
    ...overrides,
    CUDA_VISIBLE_DEVICES: ctx.resources.gpuIndexes.join(","),
    CUDA_DEVICE_ORDER: "PCI_BUS_ID",
  };
}
