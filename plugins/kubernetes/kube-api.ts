import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import type {
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  Middleware,
  RequestContext,
  V1Job,
  V1Pod,
} from "@kubernetes/client-node";
import { KubeApiError, parseStatus, toKubeApiError } from "./kube-api-error.js";
import type { KubeModule } from "./kube-module.js";

/** Options of {@link KubeApi}. */
export interface KubeApiOptions {
  /** Each request is abandoned after this long. */
  requestTimeoutMs: number;
  /** Aborts every request in flight; unset for clean-up after an abort. */
  signal?: AbortSignal;
}

const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * The few Kubernetes API calls the plugin makes, through the generated
 * clients of @kubernetes/client-node, each bounded by a timeout and the
 * attempt's signal, each failing with a KubeApiError that names it.
 */
export class KubeApi {
  readonly #kubeConfig: KubeConfig;
  readonly #server: string;
  readonly #options: KubeApiOptions;
  readonly #batch: BatchV1Api;
  readonly #core: CoreV1Api;

  constructor(
    k8s: KubeModule,
    kubeConfig: KubeConfig,
    options: KubeApiOptions,
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error("the kubeconfig has no cluster");
    this.#kubeConfig = kubeConfig;
    this.#server = cluster.server;
    this.#options = options;
    const configuration = k8s.createConfiguration({
      baseServer: new k8s.ServerConfiguration(cluster.server, {}),
      authMethods: { default: kubeConfig },
      promiseMiddleware: [this.#signalMiddleware()],
    });
    this.#batch = new k8s.BatchV1Api(configuration);
    this.#core = new k8s.CoreV1Api(configuration);
  }

  /** The same connection without the attempt's signal, for clean-up. */
  withoutSignal(k8s: KubeModule): KubeApi {
    return new KubeApi(k8s, this.#kubeConfig, {
      requestTimeoutMs: this.#options.requestTimeoutMs,
    });
  }

  createJob(namespace: string, job: V1Job): Promise<V1Job> {
    const what = `create Job "${job.metadata?.name}" in namespace "${namespace}"`;
    return this.#call(what, () =>
      this.#batch.createNamespacedJob({ namespace, body: job }),
    );
  }

  /** The Job, or undefined when it does not exist. */
  async readJob(namespace: string, name: string): Promise<V1Job | undefined> {
    const what = `read Job "${name}" in namespace "${namespace}"`;
    return this.#call(what, () =>
      this.#batch.readNamespacedJob({ namespace, name }),
    ).catch(notFoundAsUndefined);
  }

  /**
   * Deletes a Job with `Background` propagation: the Job goes at once and
   * the garbage collector deletes its pods. (Without a policy the API
   * would orphan them: batch/v1 Jobs default to `Orphan`.) False when the
   * Job was already gone.
   */
  async deleteJob(namespace: string, name: string): Promise<boolean> {
    const what = `delete Job "${name}" in namespace "${namespace}"`;
    const deleted = await this.#call(what, () =>
      this.#batch.deleteNamespacedJob({
        namespace,
        name,
        propagationPolicy: "Background",
      }),
    ).catch(notFoundAsUndefined);
    return deleted !== undefined;
  }

  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    const what = `list pods "${labelSelector}" in namespace "${namespace}"`;
    return this.#call(what, () =>
      this.#core.listNamespacedPod({ namespace, labelSelector }),
    ).then((list) => list.items);
  }

  /**
   * Opens a container's log with `follow=true`: the response streams
   * lines until the container stops. The generated client has no
   * streaming call and the library's `Log` helper hides the API's error
   * message, so this is a plain request with the kubeconfig's TLS and
   * credentials applied by the library.
   */
  async followLog(
    namespace: string,
    pod: string,
    container: string,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    const what = `follow log of container "${container}" of pod "${pod}"`;
    const url = new URL(
      `${this.#server}/api/v1/namespaces/${encodeURIComponent(namespace)}` +
        `/pods/${encodeURIComponent(pod)}/log`,
    );
    url.searchParams.set("container", container);
    url.searchParams.set("follow", "true");
    const options: https.RequestOptions = { headers: {} };
    try {
      await this.#kubeConfig.applyToHTTPSOptions(options);
    } catch (error) {
      throw toKubeApiError(what, error);
    }
    const timeoutMs = this.#options.requestTimeoutMs;
    const response = await request(url, options, signal, timeoutMs).catch(
      (error) => {
        throw toKubeApiError(what, error);
      },
    );
    if (response.statusCode === 200) return response;
    const body = await readCapped(response).catch(() => "");
    const status = parseStatus(body);
    throw new KubeApiError(what, {
      statusCode: response.statusCode,
      reason: status?.reason,
      message: status?.message ?? response.statusMessage ?? "",
    });
  }

  async #call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      const aborted = this.#options.signal?.aborted ?? false;
      throw toKubeApiError(operation, error, !aborted);
    }
  }

  /** Gives each request the attempt's signal and its own timeout. */
  #signalMiddleware(): Middleware {
    return {
      pre: async (context: RequestContext) => {
        const timeout = AbortSignal.timeout(this.#options.requestTimeoutMs);
        const { signal } = this.#options;
        context.setSignal(
          signal ? AbortSignal.any([signal, timeout]) : timeout,
        );
        return context;
      },
      post: async (context) => context,
    };
  }
}

function notFoundAsUndefined(error: unknown): undefined {
  if (error instanceof KubeApiError && error.statusCode === 404) {
    return undefined;
  }
  throw error;
}

/**
 * Sends a GET and resolves with the response once its headers arrive.
 * The signal ends the request at any time, the stream included; the
 * timeout only covers the wait for headers, as a followed log may rightly
 * stay silent for hours.
 */
function request(
  url: URL,
  options: https.RequestOptions,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<IncomingMessage> {
  const transport = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, { ...options, method: "GET" });
    const onAbort = () => req.destroy(new Error("the request was aborted"));
    const timer = setTimeout(
      () => req.destroy(new TimeoutError(timeoutMs)),
      timeoutMs,
    );
    signal.addEventListener("abort", onAbort, { once: true });
    req.on("response", (response) => {
      clearTimeout(timer);
      response.on("close", () => signal.removeEventListener("abort", onAbort));
      resolve(response);
    });
    req.on("error", (error) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      reject(error);
    });
    if (signal.aborted) onAbort();
    req.end();
  });
}

class TimeoutError extends Error {
  override readonly name = "TimeoutError";

  constructor(ms: number) {
    super(`no response within ${ms} ms`);
  }
}

async function readCapped(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > MAX_ERROR_BODY_BYTES) break;
    chunks.push(chunk as Buffer);
  }
  response.destroy();
  return Buffer.concat(chunks).toString("utf8");
}
