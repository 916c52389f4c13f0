import type { ConfigSchema } from "../../plugin-sdk/index.js";

/** The config of a `shell` task, after templates are rendered. */
export interface ShellConfig {
  command: string;
  shell?: string;
  working_dir?: string;
  env?: Record<string, string>;
  capture_output?: boolean;
}

/** The JSON Schema of {@link ShellConfig}. */
export const shellConfigSchema: ConfigSchema = {
  type: "object",
  description: "Runs a command with a POSIX shell.",
  properties: {
    command: {
      type: "string",
      minLength: 1,
      "x-encoding": "shell",
      description:
        "The command, run as [shell, '-c', command]. Template values are " +
        "shell-quoted. It may write its output to the file named by " +
        "$DEERFLOW_OUTPUT: one JSON object, or key=value lines.",
    },
    shell: {
      type: "string",
      minLength: 1,
      default: "/bin/sh",
      description: "The shell that runs the command.",
    },
    working_dir: {
      type: "string",
      minLength: 1,
      description:
        "Directory to run in: absolute, or relative to the attempt's work " +
        "directory (the default). It must exist.",
    },
    env: {
      type: "object",
      additionalProperties: { type: "string" },
      description:
        "Environment variables, set over the task's env and the agent's " +
        "environment.",
    },
    capture_output: {
      type: "boolean",
      default: true,
      description:
        "Whether the output gets `stdout` and `stderr` (their last 4 KiB). " +
        "The lines reach the task's log either way.",
    },
  },
  required: ["command"],
  additionalProperties: false,
};
