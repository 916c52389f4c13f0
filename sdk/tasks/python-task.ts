import type { ConfigValue, Text } from "../config-value.js";
import { Task } from "../task.js";
import type { TaskOptions } from "../task-options.js";

/** What a `python` task runs: a script file or inline code. */
export type PythonSource =
  | {
      /** Path of a .py file, absolute or relative to the agent's cwd. */
      script: Text;
      code?: never;
    }
  | {
      /** Inline Python source, run as a module. */
      code: Text;
      script?: never;
    };

/** The config of a `python` task (SPEC §6). */
export type PythonConfig = PythonSource & {
  /** The function to call; without it the output is `result`. */
  function?: Text;
  /** Positional arguments (with `function`). */
  args?: ConfigValue[];
  /** Keyword arguments (with `function`). */
  kwargs?: { [key: string]: ConfigValue };
  /** The interpreter; not together with python_version. */
  python?: Text;
  /** Picks python3.N from PATH, for example "3.11". */
  python_version?: Text;
  /** Packages installed into a virtualenv cached per requirement set. */
  requirements?: Text[];
};

/** A `python` task: calls a function, or runs code, and keeps the result. */
export class PythonTask extends Task<PythonConfig> {
  constructor(id: string, config: PythonConfig, options?: TaskOptions) {
    super(id, "python", config, options);
  }
}
