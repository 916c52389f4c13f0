/** The built-in `shell` task type. */
export {
  MAX_OUTPUT_FILE_BYTES,
  OutputFileError,
  parseOutputFile,
} from "./output-file.js";
export type { ShellConfig } from "./shell-config.js";
export { shellConfigSchema } from "./shell-config.js";
export type { ShellPluginOptions } from "./shell-plugin.js";
export { createShellPlugin, shellPlugin } from "./shell-plugin.js";
