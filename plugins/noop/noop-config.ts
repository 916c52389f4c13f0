import type { ConfigSchema, JsonObject } from "../../plugin-sdk/index.js";

/** The config of a `noop` task, after templates are rendered. */
export interface NoopConfig {
  /** Milliseconds to wait before succeeding; default 0. */
  sleep_ms?: number;
  /** Set as the attempt's output, unchanged. */
  output?: JsonObject;
}

/** The longest `sleep_ms` accepted: one day, in milliseconds. */
export const MAX_NOOP_SLEEP_MS = 86_400_000;

/** The JSON Schema of {@link NoopConfig}. */
export const noopConfigSchema: ConfigSchema = {
  type: "object",
  description: "Does nothing, optionally after a wait, and succeeds.",
  properties: {
    sleep_ms: {
      type: "integer",
      minimum: 0,
      maximum: MAX_NOOP_SLEEP_MS,
      default: 0,
      description:
        "Milliseconds to wait before succeeding. A kill or timeout ends " +
        "the wait at once.",
    },
    output: {
      type: "object",
      description: "An object set as the task's output, unchanged.",
    },
  },
  additionalProperties: false,
};
