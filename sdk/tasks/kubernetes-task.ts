import type { ConfigValue, Text } from "../config-value.js";
import { Task } from "../task.js";
import type { TaskOptions } from "../task-options.js";

/** The config of a `kubernetes` task (SPEC §6). */
export interface KubernetesConfig {
  /** Default "default". */
  namespace?: Text;
  /** A Kubernetes PodSpec; restartPolicy defaults to Never. */
  pod_spec: { [key: string]: ConfigValue };
  service_account?: Text;
  /** A kubeconfig path; default in-cluster, then $KUBECONFIG. */
  kubeconfig?: Text;
  context?: Text;
  /** Default 0. */
  backoff_limit?: number;
  active_deadline_seconds?: number;
  /** Seconds the cluster keeps a finished Job. */
  ttl_seconds_after_finished?: number;
  labels?: Record<string, Text>;
  /** Keep the Job after it completes; default false. */
  keep_job?: boolean;
}

/** A `kubernetes` task: runs a batch/v1 Job and streams its pod's logs. */
export class KubernetesTask extends Task<KubernetesConfig> {
  constructor(id: string, config: KubernetesConfig, options?: TaskOptions) {
    super(id, "kubernetes", config, options);
  }
}
