import type {
  ConfigurationOptions,
  CoreV1Api,
  RequestContext,
  ResponseContext,
} from "@kubernetes/client-node";
import type { SecretSource } from "../../workflow/index.js";
import { SecretProviderError } from "./secret-provider-error.js";
import type { SecretReader } from "./secret-reader.js";

type KubernetesSource = Extract<SecretSource, { provider: "kubernetes" }>;

/**
 * The client library, loaded on first use: it is large (about 130 MiB of
 * RSS and 33 MiB of heap once loaded), and most control planes never read
 * a Kubernetes secret.
 */
type KubernetesClient = typeof import("@kubernetes/client-node");

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
 * decoded. The client is loaded and made on first use, so a control plane
 * that never reads a Kubernetes secret never loads the library or a
 * kubeconfig.
 */
export class KubernetesSecretReader implements SecretReader<KubernetesSource> {
  private api: CoreV1Api | undefined;

  constructor(private readonly options: KubernetesOptions = {}) {}

  async read(source: KubernetesSource, signal: AbortSignal): Promise<string> {
    const where = `${source.namespace}/${source.name}`;
    const k8s = await import("@kubernetes/client-node");
    const api = this.client(k8s);
    let secret: Awaited<ReturnType<CoreV1Api["readNamespacedSecret"]>>;
    try {
      secret = await api.readNamespacedSecret(
        { name: source.name, namespace: source.namespace },
        withSignal(k8s, signal),
      );
    } catch (error) {
      throw failure(k8s, error, where, signal);
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

  private client(k8s: KubernetesClient): CoreV1Api {
    if (this.api) return this.api;
    const config = new k8s.KubeConfig();
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
    this.api = config.makeApiClient(k8s.CoreV1Api);
    return this.api;
  }
}

/** Request options that abort the client's fetch with `signal`. */
function withSignal(
  k8s: KubernetesClient,
  signal: AbortSignal,
): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (context: RequestContext) => {
          context.setSignal(signal);
          return new k8s.Observable(Promise.resolve(context));
        },
        post: (response: ResponseContext) =>
          new k8s.Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: "append",
  };
}

function failure(
  k8s: KubernetesClient,
  error: unknown,
  where: string,
  signal: AbortSignal,
): SecretProviderError {
  if (error instanceof k8s.ApiException) {
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
