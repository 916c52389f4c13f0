import {
  ApiException,
  type ConfigurationOptions,
  CoreV1Api,
  KubeConfig,
  Observable,
  type RequestContext,
  type ResponseContext,
} from "@kubernetes/client-node";
import type { SecretSource } from "../../workflow/index.js";
import { SecretProviderError } from "./secret-provider-error.js";
import type { SecretReader } from "./secret-reader.js";

type KubernetesSource = Extract<SecretSource, { provider: "kubernetes" }>;

/** How the control plane reaches the Kubernetes API. */
export interface KubernetesOptions {
  /**
   * A kubeconfig file. Without one the client's defaults apply when a
   * kubernetes secret is first read: KUBECONFIG, ~/.kube/config, or the
   * pod's service account when running in a cluster.
   */
  kubeconfig?: string | undefined;
}

/**
 * The `kubernetes` provider: `data[key]` of a core/v1 Secret, base64
 * decoded. The client is made on first use, so a control plane that never
 * reads a Kubernetes secret never loads a kubeconfig.
 */
export class KubernetesSecretReader implements SecretReader<KubernetesSource> {
  private api: CoreV1Api | undefined;

  constructor(private readonly options: KubernetesOptions = {}) {}

  async read(source: KubernetesSource, signal: AbortSignal): Promise<string> {
    const where = `${source.namespace}/${source.name}`;
    const api = this.client();
    let secret: Awaited<ReturnType<CoreV1Api["readNamespacedSecret"]>>;
    try {
      secret = await api.readNamespacedSecret(
        { name: source.name, namespace: source.namespace },
        withSignal(signal),
      );
    } catch (error) {
      throw failure(error, where, signal);
    }
    const encoded = secret.data?.[source.key];
    const plain = secret.stringData?.[source.key];
    if (encoded === undefined && plain === undefined) {
      throw new SecretProviderError(
        `the Kubernetes Secret ${where} has no key "${source.key}"`,
        "secret_not_found",
      );
    }
    return encoded === undefined
      ? String(plain)
      : Buffer.from(encoded, "base64").toString("utf8");
  }

  private client(): CoreV1Api {
    if (this.api) return this.api;
    const config = new KubeConfig();
    try {
      if (this.options.kubeconfig) config.loadFromFile(this.options.kubeconfig);
      else config.loadFromDefault();
    } catch (error) {
      const from = this.options.kubeconfig ?? "the default kubeconfig";
      throw new SecretProviderError(
        `the Kubernetes configuration (${from}) cannot be loaded: ` +
          (error instanceof Error ? error.message : String(error)),
        "secret_provider_not_configured",
        { cause: error },
      );
    }
    this.api = config.makeApiClient(CoreV1Api);
    return this.api;
  }
}

/** Request options that abort the client's fetch with `signal`. */
function withSignal(signal: AbortSignal): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (context: RequestContext) => {
          context.setSignal(signal);
          return new Observable(Promise.resolve(context));
        },
        post: (response: ResponseContext) =>
          new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: "append",
  };
}

function failure(
  error: unknown,
  where: string,
  signal: AbortSignal,
): SecretProviderError {
  if (error instanceof ApiException) {
    const status = error.code;
    if (status === 404) {
      return new SecretProviderError(
        `there is no Kubernetes Secret ${where}`,
        "secret_not_found",
      );
    }
    if (status === 401 || status === 403) {
      return new SecretProviderError(
        `the Kubernetes API refused to read the Secret ${where} (HTTP ` +
          `${status}: check the credentials and their RBAC role)`,
        "secret_access_denied",
      );
    }
    return new SecretProviderError(
      `the Kubernetes API answered HTTP ${status} for the Secret ${where}`,
      "secret_provider_unavailable",
    );
  }
  const reason = signal.aborted
    ? "did not answer in time"
    : `cannot be reached (${error instanceof Error ? error.message : String(error)})`;
  return new SecretProviderError(
    `the Kubernetes API ${reason} for the Secret ${where}`,
    "secret_provider_unavailable",
    { cause: error },
  );
}
