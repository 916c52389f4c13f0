import { isDnsLabel, isLabelKey, isLabelValue } from "./kube-names.js";
import type { StatusCause } from "./stand-in-status.js";

type Json = Record<string, unknown>;

const RESTART_POLICIES = ["OnFailure", "Never"];

/**
 * The checks the API server makes on a new batch/v1 Job that the
 * stand-in repeats: a name that fits in a label, a pod template with
 * named containers that have images, a restart policy a Job accepts (an
 * unset one defaults to Always, which a Job refuses), valid labels and
 * non-negative counts. Returns the causes of a 422, none when valid.
 */
export function validateJob(job: Json): StatusCause[] {
  const causes: StatusCause[] = [];
  const add = (field: string, message: string, reason?: string) =>
    causes.push({ field, message, reason });
  const metadata = asObject(job.metadata);
  const name = metadata.name;
  if (typeof name !== "string" || name === "") {
    add(
      "metadata.name",
      "Required value: name or generateName is required",
      "FieldValueRequired",
    );
  } else if (!isDnsLabel(name)) {
    add(
      "metadata.name",
      `Invalid value: "${name}": a lowercase RFC 1123 label of at most ` +
        "63 characters is required",
    );
  }
  checkLabels("metadata.labels", metadata.labels, add);
  const spec = asObject(job.spec);
  for (const key of ["backoffLimit", "activeDeadlineSeconds"]) {
    const value = spec[key];
    if (
      value !== undefined &&
      !(Number.isInteger(value) && (value as number) >= 0)
    ) {
      add(
        `spec.${key}`,
        `Invalid value: ${JSON.stringify(value)}: must be greater than or equal to 0`,
      );
    }
  }
  if (spec.template === undefined) {
    add("spec.template", "Required value", "FieldValueRequired");
    return causes;
  }
  const template = asObject(spec.template);
  checkLabels(
    "spec.template.metadata.labels",
    asObject(template.metadata).labels,
    add,
  );
  checkPodSpec(asObject(template.spec), add);
  return causes;
}

function checkPodSpec(
  podSpec: Json,
  add: (field: string, message: string, reason?: string) => void,
): void {
  const field = "spec.template.spec";
  const containers = podSpec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    add(`${field}.containers`, "Required value", "FieldValueRequired");
  } else {
    containers.forEach((item, index) => {
      const container = asObject(item);
      const at = `${field}.containers[${index}]`;
      if (typeof container.name !== "string" || !isDnsLabel(container.name)) {
        add(`${at}.name`, "Required value", "FieldValueRequired");
      }
      if (typeof container.image !== "string" || container.image === "") {
        add(`${at}.image`, "Required value", "FieldValueRequired");
      }
    });
  }
  const policy = podSpec.restartPolicy ?? "Always";
  if (!RESTART_POLICIES.includes(policy as string)) {
    add(
      `${field}.restartPolicy`,
      `Unsupported value: "${String(policy)}": supported values: ` +
        RESTART_POLICIES.map((p) => `"${p}"`).join(", "),
      "FieldValueNotSupported",
    );
  }
}

function checkLabels(
  field: string,
  labels: unknown,
  add: (field: string, message: string) => void,
): void {
  for (const [key, value] of Object.entries(asObject(labels))) {
    if (!isLabelKey(key))
      add(`${field}`, `Invalid value: "${key}": name part must be valid`);
    if (typeof value !== "string" || !isLabelValue(value)) {
      add(
        `${field}`,
        `Invalid value: "${String(value)}": a valid label must be 63 characters or less`,
      );
    }
  }
}

function asObject(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Json)
    : {};
}
