import type {
  ExecuteResult,
  PluginSdk,
  TaskContext,
} from "../../plugin-sdk/index.js";
import { abortError } from "../process/index.js";
import { jobName } from "./job-name.js";
import { JobRun } from "./job-run.js";
import { ConfigFieldError, resolveJobSettings } from "./job-settings.js";
import { KubeApi } from "./kube-api.js";
import { connectKube, type KubeEnvironment } from "./kube-connection.js";
import { loadKubeModule } from "./kube-module.js";
import {
  type KubernetesConfig,
  kubernetesConfigSchema,
} from "./kubernetes-config.js";
import {
  type KubernetesPluginOptions,
  type ResolvedKubernetesPluginOptions,
  resolvePluginOptions,
} from "./kubernetes-plugin-options.js";
import { checkPodSpecFields } from "./pod-spec-fields.js";
import { probeKubernetes } from "./probe-kubernetes.js";

/** Makes a kubernetes plugin factory with the given options. */
export function createKubernetesPlugin(options: KubernetesPluginOptions = {}) {
  const resolved = resolvePluginOptions(options);
  const environment: KubeEnvironment = {
    env: resolved.env,
    serviceAccountDir: resolved.serviceAccountDir,
  };
  return (sdk: PluginSdk) =>
    sdk.definePlugin<KubernetesConfig>({
      type: "kubernetes",
      version: "1.0.0",
      description:
        "Runs a pod to completion as a Kubernetes Job and streams its logs.",
      configSchema: kubernetesConfigSchema,
      probe: () => probeKubernetes(environment),
      execute: (ctx) => executeKubernetes(sdk, resolved, environment, ctx),
    });
}

/** The built-in `kubernetes` task type. */
export const kubernetesPlugin = createKubernetesPlugin();
export default kubernetesPlugin;

async function executeKubernetes(
  sdk: PluginSdk,
  options: ResolvedKubernetesPluginOptions,
  environment: KubeEnvironment,
  ctx: TaskContext<KubernetesConfig>,
): Promise<ExecuteResult> {
  const name = jobName(ctx.runId, ctx.taskId, ctx.attempt);
  const k8s = await loadKubeModule();
  let settings: ReturnType<typeof resolveJobSettings>;
  let connection: Awaited<ReturnType<typeof connectKube>>;
  try {
    settings = resolveJobSettings(ctx.config);
    checkPodSpecFields(k8s, settings.podSpec);
    connection = await connectKube(k8s, settings, environment);
  } catch (error) {
    if (!(error instanceof ConfigFieldError)) throw error;
    throw new sdk.NonRetryableError(error.message, { cause: error });
  }
  if (ctx.signal.aborted) throw abortError(sdk, ctx.signal, `Job "${name}"`);
  const namespace = settings.namespace ?? connection.namespace ?? "default";
  ctx.log.debug("kubernetes connection", {
    source: connection.source,
    context: connection.context,
    server: connection.server,
  });
  const api = new KubeApi(k8s, connection.kubeConfig, {
    requestTimeoutMs: options.requestTimeoutMs,
    signal: ctx.signal,
  });
  const run = new JobRun({
    sdk,
    ctx,
    settings,
    options,
    api,
    cleanupApi: api.withoutSignal(k8s),
    namespace,
    name,
  });
  return run.execute();
}
