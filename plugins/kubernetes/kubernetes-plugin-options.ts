import { SERVICE_ACCOUNT_DIR } from "./kube-connection.js";

/** Options of the kubernetes plugin, fixed when the agent loads it. */
export interface KubernetesPluginOptions {
  /**
   * Where KUBERNETES_SERVICE_HOST/PORT, KUBECONFIG and HOME are read to
   * find credentials when a task names no kubeconfig. Default:
   * `process.env`.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** The mounted service account. Default: Kubernetes' mount point. */
  serviceAccountDir?: string;
  /** Time between two looks at the Job and its pods. Default 2000. */
  pollIntervalMs?: number;
  /** Each API request is abandoned after this long. Default 30000. */
  requestTimeoutMs?: number;
  /**
   * How long a delete may take until the Job (and, after a cancel or
   * timeout, its pods) are gone. Pods get their termination grace period
   * (30 s unless the pod spec says otherwise) first; a pod with a longer
   * one outlasts this and the attempt's error says so. Default 60000.
   */
  deleteTimeoutMs?: number;
  /** How long logs may take to end once the Job is done. Default 10000. */
  logDrainTimeoutMs?: number;
  /**
   * Looks at the Job that may fail in a row (network, 5xx, 429) before
   * the attempt fails. Default 5.
   */
  maxPollFailures?: number;
}

/** {@link KubernetesPluginOptions} with every default applied. */
export type ResolvedKubernetesPluginOptions = Required<KubernetesPluginOptions>;

const DEFAULTS = {
  pollIntervalMs: 2_000,
  requestTimeoutMs: 30_000,
  deleteTimeoutMs: 60_000,
  logDrainTimeoutMs: 10_000,
  maxPollFailures: 5,
} as const;

const MINIMUMS: Record<keyof typeof DEFAULTS, number> = {
  pollIntervalMs: 10,
  requestTimeoutMs: 100,
  deleteTimeoutMs: 100,
  logDrainTimeoutMs: 0,
  maxPollFailures: 1,
};

/** Applies defaults and checks bounds, naming the option that is wrong. */
export function resolvePluginOptions(
  options: KubernetesPluginOptions,
): ResolvedKubernetesPluginOptions {
  const numbers: Record<keyof typeof DEFAULTS, number> = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const value = options[key] ?? DEFAULTS[key];
    if (!Number.isSafeInteger(value) || value < MINIMUMS[key]) {
      throw new RangeError(
        `kubernetes plugin option ${key} must be an integer >= ` +
          `${MINIMUMS[key]}, got ${String(options[key])}`,
      );
    }
    numbers[key] = value;
  }
  return {
    env: options.env ?? process.env,
    serviceAccountDir: options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR,
    ...numbers,
  };
}
