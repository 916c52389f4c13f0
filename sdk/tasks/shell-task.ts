import type { Text } from "../config-value.js";
import { type Expression, isExpression } from "../expression.js";
import { Task } from "../task.js";
import type { TaskOptions } from "../task-options.js";

/** The config of a `shell` task (SPEC §6). */
export interface ShellConfig {
  /**
   * Run as `[shell, "-c", command]`. Template values are shell-quoted as
   * one word each, so write templates outside quotes.
   */
  command: Text;
  /** Default "/bin/sh". */
  shell?: Text;
  /** Absolute, or relative to the attempt's work directory. */
  working_dir?: Text;
  env?: Record<string, Text>;
  /** Whether the output keeps stdout/stderr tails; default true. */
  capture_output?: boolean | Expression;
}

/**
 * A `shell` task. The config may be just the command:
 * `new ShellTask("hello", "echo hi")`.
 */
export class ShellTask extends Task<ShellConfig> {
  constructor(id: string, config: ShellConfig | Text, options?: TaskOptions) {
    const full: ShellConfig =
      typeof config === "string" || isExpression(config)
        ? { command: config }
        : config;
    super(id, "shell", full, options);
  }
}
