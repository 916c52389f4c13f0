/** The built-in `python` task type. */
export { probePython, pythonVersionLabel } from "./probe-python.js";
export type { PythonConfig } from "./python-config.js";
export { pythonConfigSchema } from "./python-config.js";
export type { PythonPluginOptions } from "./python-plugin.js";
export {
  createPythonPlugin,
  MAX_RESULT_BYTES,
  pythonPlugin,
} from "./python-plugin.js";
export { PYTHON_RUNNER_SOURCE, RUNNER_FILE } from "./python-runner-source.js";
export type { RunnerFailure, RunnerRecord } from "./runner-record.js";
export { runnerError } from "./runner-record.js";
export { agentCacheDir, CACHE_DIR_ENV } from "./virtualenv-cache.js";
