/** Running task processes: process groups, line streaming, tree kills. */
export { abortError } from "./abort-error.js";
export {
  DEFAULT_KILL_GRACE_MS,
  KILL_GRACE_ENV,
  resolveKillGraceMs,
} from "./kill-grace.js";
export type { KillProcessTreeOptions } from "./kill-process-tree.js";
export { killMarkedProcesses, killProcessTree } from "./kill-process-tree.js";
export { LineSplitter, MAX_LINE_CHARS } from "./line-splitter.js";
export { DEFAULT_TAIL_BYTES, OutputTail } from "./output-tail.js";
export {
  findMarkedProcesses,
  isProcessAlive,
  isProcessGroupAlive,
  signalProcessGroup,
} from "./process-group.js";
export type { ProcessExit, RunProcessOptions } from "./run-process.js";
export { runProcess } from "./run-process.js";
export type { EnvironmentSource } from "./task-environment.js";
export { taskEnvironment } from "./task-environment.js";
