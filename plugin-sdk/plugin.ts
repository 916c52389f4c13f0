/**
 * The plugin interface of SPEC §6. Built-in task types and users' own types
 * are written against exactly this module.
 */

/** A JSON value as it travels in configs, params and outputs. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/**
 * A JSON Schema (draft 2020-12 subset that Ajv understands) for a task
 * type's config. A string property may carry `"x-encoding"` to say how
 * template values are written into it: `"shell"` quotes each value for a
 * POSIX shell, `"url"` percent-encodes it, `"bind"` leaves the templates in
 * place for the plugin to turn into bind parameters with `ctx.bind`;
 * without it a value is written as-is (and a string that is exactly one
 * template keeps the value's type).
 */
export type ConfigSchema = { [key: string]: unknown };

/** How a template value is written into a string field of a config. */
export type TemplateEncoding = "shell" | "url" | "bind";

/**
 * A `"bind"` field split at its templates, like a tagged template literal:
 * `strings` has one more entry than `values`, and the text is
 * `strings[0] + values[0] + strings[1] + ...`. A plugin writes each value
 * as a bind parameter (`$1`, `?`), so no value can change the statement.
 */
export interface BoundTemplate {
  strings: string[];
  values: JsonValue[];
}

/** Resources allocated to one attempt. */
export interface AllocatedResources {
  cpuMillis: number;
  memoryBytes: number;
  /** Indexes of the GPUs given to the attempt. */
  gpuIndexes: number[];
}

/** The structured logger a plugin writes to; lines reach the task's log. */
export interface TaskLogger {
  debug(message: string, fields?: JsonObject): void;
  info(message: string, fields?: JsonObject): void;
  warn(message: string, fields?: JsonObject): void;
  error(message: string, fields?: JsonObject): void;
}

/** Task metrics, recorded per attempt. */
export interface TaskMetrics {
  counter(name: string, increment?: number, labels?: Labels): void;
  gauge(name: string, value: number, labels?: Labels): void;
  /** Records a duration in milliseconds. */
  timer(name: string, durationMs: number, labels?: Labels): void;
}

export type Labels = Record<string, string>;

/** Where the plugin sends raw process output, line by line. */
export interface OutputStreams {
  stdout(line: string): void;
  stderr(line: string): void;
}

/** Everything an attempt's execution gets (SPEC §6). */
export interface TaskContext<Config = JsonObject> {
  runId: string;
  taskId: string;
  /** 1-based number of this attempt. */
  attempt: number;
  /** The config with every template rendered. */
  config: Config;
  params: JsonObject;
  /** Environment variables the task asked for (task `env`). */
  env: Record<string, string>;
  /** Secrets the task may read, by name. Never log them. */
  secrets: Record<string, string>;
  /** A directory owned by this attempt, removed after it. */
  workDir: string;
  resources: AllocatedResources;
  /** Aborted on cancel, kill, timeout or a lost lease. */
  signal: AbortSignal;
  log: TaskLogger;
  metrics: TaskMetrics;
  /** Raw process output; each call is one line of the task's log. */
  streams: OutputStreams;
  /** Sets (merges into) the attempt's output. */
  output(values: JsonObject): void;
  /**
   * Evaluates the templates of a `"bind"` field (its raw text, as the
   * config holds it) in this attempt's template context. `field` names
   * the field in errors, for example "config.query".
   */
  bind(text: string, field?: string): BoundTemplate;
}

/** What `probe()` returns: labels the agent adds to its detected labels. */
export type ProbeResult = Labels;

/**
 * The value `execute` resolves to. A plugin either resolves (success), or
 * throws. `exitCode` is recorded on the attempt when present.
 */
export interface ExecuteResult {
  exitCode?: number;
}

export interface PluginDefinition<Config = JsonObject> {
  /** The task type, for example "shell". `[a-z][a-z0-9_-]*`. */
  type: string;
  /** The plugin's own version (semver). */
  version: string;
  /** One sentence shown to users. */
  description?: string;
  configSchema: ConfigSchema;
  /**
   * Finds labels on the host, for example a tool's presence. Throwing
   * {@link PluginUnavailableError} says the type cannot run on this host
   * (spark without spark-submit): the agent then does not advertise it.
   */
  probe?(): Promise<ProbeResult> | ProbeResult;
  execute(ctx: TaskContext<Config>): Promise<ExecuteResult | undefined>;
}

/** A loaded plugin. */
export type Plugin<Config = JsonObject> = Readonly<PluginDefinition<Config>>;
