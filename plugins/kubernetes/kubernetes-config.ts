import type { ConfigSchema, JsonObject } from "../../plugin-sdk/index.js";

/** The config of a `kubernetes` task, after templates are rendered. */
export interface KubernetesConfig {
  namespace?: string;
  /** A Kubernetes PodSpec, in the API's own JSON field names. */
  pod_spec: JsonObject;
  service_account?: string;
  kubeconfig?: string;
  context?: string;
  backoff_limit?: number;
  active_deadline_seconds?: number;
  ttl_seconds_after_finished?: number;
  labels?: Record<string, string>;
  keep_job?: boolean;
}

/** A DNS-1123 label: what namespaces and container names must be. */
export const DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

/** The JSON Schema of {@link KubernetesConfig}. */
export const kubernetesConfigSchema: ConfigSchema = {
  type: "object",
  description: "Runs a pod to completion as a Kubernetes batch/v1 Job.",
  properties: {
    namespace: {
      type: "string",
      pattern: DNS_LABEL,
      maxLength: 63,
      description:
        "Namespace of the Job. Default: the namespace of the kubeconfig " +
        "context (or of the agent's service account in a cluster), else " +
        '"default".',
    },
    pod_spec: {
      type: "object",
      required: ["containers"],
      properties: {
        containers: {
          type: "array",
          minItems: 1,
          items: {
            type: "object",
            required: ["name", "image"],
            properties: {
              name: { type: "string", pattern: DNS_LABEL, maxLength: 63 },
              image: { type: "string", minLength: 1 },
            },
          },
        },
      },
      description:
        "The pod to run: a Kubernetes PodSpec with the API's field names " +
        "(containers, volumes, nodeSelector, ...). restartPolicy defaults " +
        "to Never. Unknown fields are rejected. The logs of every " +
        "container are streamed; the first container's exit code is the " +
        "task's, unless another container failed.",
    },
    service_account: {
      type: "string",
      minLength: 1,
      description: "The pod's service account (serviceAccountName).",
    },
    kubeconfig: {
      type: "string",
      minLength: 1,
      description:
        "Path of a kubeconfig file on the agent's host (~ is the home " +
        "directory). Default: in-cluster credentials when the agent runs " +
        "in a pod (KUBERNETES_SERVICE_HOST is set), else $KUBECONFIG, " +
        "else ~/.kube/config.",
    },
    context: {
      type: "string",
      minLength: 1,
      description:
        "The kubeconfig context to use. Default: its current-context.",
    },
    backoff_limit: {
      type: "integer",
      minimum: 0,
      default: 0,
      description:
        "Pod failures the Job retries itself before it fails. Deer Flow " +
        "retries are attempts; this is inside one attempt.",
    },
    active_deadline_seconds: {
      type: "integer",
      minimum: 1,
      description:
        "Seconds the Job may run before Kubernetes stops it " +
        "(DeadlineExceeded). The task's timeout applies as well.",
    },
    ttl_seconds_after_finished: {
      type: "integer",
      minimum: 0,
      description:
        "Seconds after it finishes that Kubernetes deletes the Job: a " +
        "safety net should the agent die before deleting it, and the " +
        "limit of keep_job. Keep it well above a few seconds, or the Job " +
        "may be gone before Deer Flow sees how it ended.",
    },
    labels: {
      type: "object",
      additionalProperties: { type: "string", maxLength: 63 },
      description:
        "Labels for the Job and its pod, besides deerflow.run_id, " +
        "deerflow.task_id and deerflow.attempt.",
    },
    keep_job: {
      type: "boolean",
      default: false,
      description:
        "Keep the Job (and its pod) after it finishes, for inspection. " +
        "It is deleted on cancel and timeout regardless.",
    },
  },
  required: ["pod_spec"],
  additionalProperties: false,
};
