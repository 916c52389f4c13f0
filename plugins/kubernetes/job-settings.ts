import type { JsonObject, JsonValue } from "../../plugin-sdk/index.js";
import {
  isDnsLabel,
  isDnsSubdomain,
  isLabelKey,
  isLabelValue,
} from "./kube-names.js";
import { kubernetesConfigSchema } from "./kubernetes-config.js";

/** A config field that breaks its rule; `field` is its path. */
export class ConfigFieldError extends Error {
  override readonly name = "ConfigFieldError";
  readonly field: string;

  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.field = field;
  }
}

/** A `kubernetes` task's config, checked, with its defaults applied. */
export interface JobSettings {
  /** Unset: the context's namespace, else "default". */
  namespace: string | undefined;
  podSpec: JsonObject;
  serviceAccount: string | undefined;
  kubeconfig: string | undefined;
  context: string | undefined;
  backoffLimit: number;
  activeDeadlineSeconds: number | undefined;
  ttlSecondsAfterFinished: number | undefined;
  labels: Record<string, string>;
  keepJob: boolean;
  /** The containers' names, in order; the first is the main one. */
  containerNames: string[];
}

/** Label keys the plugin sets itself; a task may not set them. */
export const RESERVED_LABEL_PREFIX = "deerflow.";

const KNOWN = new Set(
  Object.keys(
    (kubernetesConfigSchema as { properties: Record<string, unknown> })
      .properties,
  ),
);

/**
 * Checks a config the way the schema does (the agent may run a config the
 * control plane never saw, and tests call `execute` directly), plus the
 * rules a schema cannot say: label syntax, unique container names, a
 * restart policy a Job accepts. Fields are named as `config.<path>`.
 */
export function resolveJobSettings(config: unknown): JobSettings {
  const root = objectAt("config", config);
  for (const key of Object.keys(root)) {
    if (!KNOWN.has(key)) {
      throw new ConfigFieldError(
        `config.${key}`,
        `unknown field (known: ${[...KNOWN].join(", ")})`,
      );
    }
  }
  const namespace = optionalString("config.namespace", root.namespace);
  if (namespace !== undefined && !isDnsLabel(namespace)) {
    throw new ConfigFieldError(
      "config.namespace",
      `"${namespace}" is not a DNS-1123 label (lowercase letters, digits ` +
        "and '-', at most 63)",
    );
  }
  const serviceAccount = optionalString(
    "config.service_account",
    root.service_account,
  );
  if (serviceAccount !== undefined && !isDnsSubdomain(serviceAccount)) {
    throw new ConfigFieldError(
      "config.service_account",
      `"${serviceAccount}" is not a valid service account name`,
    );
  }
  const { podSpec, containerNames } = checkPodSpec(root.pod_spec);
  const own = podSpec.serviceAccountName;
  if (
    serviceAccount !== undefined &&
    own !== undefined &&
    own !== serviceAccount
  ) {
    throw new ConfigFieldError(
      "config.service_account",
      `conflicts with pod_spec.serviceAccountName ("${String(own)}")`,
    );
  }
  return {
    namespace,
    podSpec,
    serviceAccount,
    kubeconfig: optionalString("config.kubeconfig", root.kubeconfig),
    context: optionalString("config.context", root.context),
    backoffLimit:
      optionalInteger("config.backoff_limit", root.backoff_limit, 0) ?? 0,
    activeDeadlineSeconds: optionalInteger(
      "config.active_deadline_seconds",
      root.active_deadline_seconds,
      1,
    ),
    ttlSecondsAfterFinished: optionalInteger(
      "config.ttl_seconds_after_finished",
      root.ttl_seconds_after_finished,
      0,
    ),
    labels: checkLabels(root.labels),
    keepJob: optionalBoolean("config.keep_job", root.keep_job) ?? false,
    containerNames,
  };
}

function checkPodSpec(value: JsonValue | undefined) {
  if (value === undefined) {
    throw new ConfigFieldError("config.pod_spec", "is required");
  }
  const podSpec = objectAt("config.pod_spec", value);
  const containers = podSpec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    throw new ConfigFieldError(
      "config.pod_spec.containers",
      "must be a non-empty array of containers",
    );
  }
  const containerNames: string[] = [];
  containers.forEach((item, index) => {
    const field = `config.pod_spec.containers[${index}]`;
    const container = objectAt(field, item);
    const name = container.name;
    if (typeof name !== "string" || !isDnsLabel(name)) {
      throw new ConfigFieldError(
        `${field}.name`,
        "is required and must be a DNS-1123 label",
      );
    }
    if (containerNames.includes(name)) {
      throw new ConfigFieldError(`${field}.name`, `"${name}" is used twice`);
    }
    if (typeof container.image !== "string" || container.image === "") {
      throw new ConfigFieldError(`${field}.image`, "is required");
    }
    containerNames.push(name);
  });
  const policy = podSpec.restartPolicy;
  if (policy !== undefined && policy !== "Never" && policy !== "OnFailure") {
    throw new ConfigFieldError(
      "config.pod_spec.restartPolicy",
      'a Job\'s pod must use "Never" (the default) or "OnFailure"',
    );
  }
  return { podSpec, containerNames };
}

function checkLabels(value: JsonValue | undefined): Record<string, string> {
  if (value === undefined) return {};
  const labels = objectAt("config.labels", value);
  const checked: Record<string, string> = {};
  for (const [key, label] of Object.entries(labels)) {
    const field = `config.labels.${key}`;
    if (!isLabelKey(key)) {
      throw new ConfigFieldError(field, "is not a valid label key");
    }
    if (key.startsWith(RESERVED_LABEL_PREFIX)) {
      throw new ConfigFieldError(
        field,
        "deerflow.* labels are set by Deer Flow",
      );
    }
    if (typeof label !== "string" || !isLabelValue(label)) {
      throw new ConfigFieldError(
        field,
        "must be a label value: at most 63 letters, digits, '-', '_' or " +
          "'.', starting and ending with a letter or digit",
      );
    }
    checked[key] = label;
  }
  return checked;
}

function objectAt(field: string, value: unknown): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigFieldError(field, "must be an object");
  }
  return value as JsonObject;
}

function optionalString(field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    throw new ConfigFieldError(field, "must be a non-empty string");
  }
  return value;
}

function optionalBoolean(field: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") {
    throw new ConfigFieldError(field, "must be true or false");
  }
  return value;
}

function optionalInteger(
  field: string,
  value: unknown,
  minimum: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < minimum) {
    throw new ConfigFieldError(field, `must be an integer >= ${minimum}`);
  }
  return value as number;
}
