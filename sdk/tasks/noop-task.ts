import type { ConfigValue } from "../config-value.js";
import { Task } from "../task.js";
import type { TaskOptions } from "../task-options.js";

/** The config of a `noop` task. */
export interface NoopConfig {
  /** Milliseconds to wait before succeeding; default 0. */
  sleep_ms?: number;
  /** Set as the task's output, unchanged. */
  output?: { [key: string]: ConfigValue };
}

/**
 * A `noop` task: does nothing (after `sleep_ms`) and succeeds; a join
 * point, a placeholder, or a fixed output.
 */
export class NoopTask extends Task<NoopConfig> {
  constructor(id: string, config: NoopConfig = {}, options?: TaskOptions) {
    super(id, "noop", config, options);
  }
}
