import { randomBytes } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { type PropagationPolicy, StandInCluster } from "./stand-in-cluster.js";
import {
  isObject,
  methodNotAllowed,
  ok,
  readJson,
  send,
} from "./stand-in-http.js";
import type { StandInPod } from "./stand-in-pod.js";
import { servePodLog } from "./stand-in-pod-log.js";
import { type LabelSelector, parseLabelSelector } from "./stand-in-selector.js";
import {
  failure,
  invalid,
  notFound,
  type StatusReply,
  success,
} from "./stand-in-status.js";
import { validateJob } from "./stand-in-validation.js";

type Json = Record<string, unknown>;

/** Options of {@link KubernetesStandIn.start}. */
export interface KubernetesStandInOptions {
  /** The bearer token it accepts. Default: a random one. */
  token?: string;
  /** Namespaces that exist. Default ["default"]. */
  namespaces?: string[];
  /** Namespaces where the token may do nothing (403 Forbidden). */
  forbiddenNamespaces?: string[];
  /** Serve HTTPS with this PEM key and certificate. Default: HTTP. */
  tls?: { key: string; cert: string };
  /** Delay of each simulated step (pod start, pull, GC). Default 20. */
  stepMs?: number;
  /** Images that are never pulled. Default: names starting "missing/". */
  isImageMissing?(image: string): boolean;
}

/** One request the stand-in answered. */
export interface StandInRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
}

/** One Job delete the stand-in accepted. */
export interface StandInDeletion {
  namespace: string;
  name: string;
  /** As asked for; unset means batch/v1's default, Orphan. */
  propagationPolicy: string | undefined;
}

/** A failure to answer instead of the real response. */
interface InjectedFailure {
  method: string | undefined;
  path: RegExp | undefined;
  /** 0: never answer. */
  status: number;
  remaining: number;
}

const USER = "system:serviceaccount:deerflow:agent";
const JOBS = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/]+))?$/;
const PODS = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+)(\/log)?)?$/;
const NAMESPACE = /^\/api\/v1\/namespaces\/([^/]+)$/;

/**
 * A stand-in for a Kubernetes API server, for tests: a real HTTP(S)
 * server on 127.0.0.1 and a random port that speaks the part of the API
 * the kubernetes plugin uses (create, read, delete Jobs; list pods by
 * label selector; follow a container's log; Status objects for errors)
 * and simulates a Job controller and kubelet (see StandInCluster and
 * StandInPod for the scripted containers). It checks the bearer token,
 * the namespace and the Job it is sent as an API server would. It
 * records requests and deletes, and can be told to fail requests.
 * Watches are not supported.
 */
export class KubernetesStandIn {
  readonly token: string;
  readonly url: string;
  readonly requests: StandInRequest[] = [];
  readonly deletions: StandInDeletion[] = [];
  readonly #server: http.Server;
  readonly #cluster: StandInCluster;
  readonly #forbidden: Set<string>;
  readonly #failures: InjectedFailure[] = [];

  private constructor(
    server: http.Server,
    url: string,
    token: string,
    cluster: StandInCluster,
    forbidden: string[],
  ) {
    this.#server = server;
    this.url = url;
    this.token = token;
    this.#cluster = cluster;
    this.#forbidden = new Set(forbidden);
  }

  /** Starts a stand-in on 127.0.0.1 and a random port. */
  static async start(
    options: KubernetesStandInOptions = {},
  ): Promise<KubernetesStandIn> {
    const cluster = new StandInCluster({
      namespaces: options.namespaces ?? ["default"],
      stepMs: options.stepMs ?? 20,
      isImageMissing:
        options.isImageMissing ?? ((image) => image.startsWith("missing/")),
    });
    // The port, and so the instance, is known only after listen.
    let standIn: KubernetesStandIn | undefined;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      if (standIn) void standIn.#handle(req, res);
      else res.writeHead(503).end();
    };
    const server = options.tls
      ? https.createServer(options.tls, handler)
      : http.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const scheme = options.tls ? "https" : "http";
    standIn = new KubernetesStandIn(
      server,
      `${scheme}://127.0.0.1:${port}`,
      options.token ?? randomBytes(16).toString("hex"),
      cluster,
      options.forbiddenNamespaces ?? [],
    );
    return standIn;
  }

  /** The Jobs that exist now, as the API returns them. */
  jobs(namespace?: string): Json[] {
    return this.#cluster.listJobs(namespace, []);
  }

  /** The pods that exist now. */
  pods(namespace?: string): StandInPod[] {
    return this.#cluster.pods(namespace);
  }

  /**
   * Answers the next `times` requests that match with a Status of
   * `status` instead (for example 503 to test retries); status 0 never
   * answers them at all (until the stand-in closes), to test timeouts.
   */
  failRequests(options: {
    status: number;
    times?: number;
    method?: string;
    path?: RegExp;
  }): void {
    this.#failures.push({
      method: options.method,
      path: options.path,
      status: options.status,
      remaining: options.times ?? 1,
    });
  }

  /** Stops the pods and the server, cutting open log streams. */
  async close(): Promise<void> {
    this.#cluster.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const record: StandInRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
    };
    this.requests.push(record);
    res.on("close", () => {
      record.status = res.statusCode;
    });
    try {
      const reply = await this.#route(req, res, url);
      if (reply) send(res, reply.code, reply.body);
    } catch (error) {
      send(res, 500, failure(500, "InternalError", String(error)).body);
    }
  }

  /** A reply to send, or undefined when the route answered itself. */
  async #route(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
  ): Promise<StatusReply | undefined> {
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return failure(401, "Unauthorized", "Unauthorized");
    }
    const method = req.method ?? "GET";
    const injected = this.#injected(method, url.pathname);
    if (injected?.code === 0) {
      await new Promise((resolve) => res.on("close", resolve));
      return undefined;
    }
    if (injected) return injected;
    const jobs = JOBS.exec(url.pathname);
    const pods = PODS.exec(url.pathname);
    const namespace = NAMESPACE.exec(url.pathname);
    if (url.searchParams.get("watch") === "true") {
      return failure(
        400,
        "BadRequest",
        "watch is not supported by the stand-in",
      );
    }
    if (jobs?.[1]) {
      const denied = this.#denied(
        jobs[1],
        "jobs",
        "batch",
        verb(method, jobs[2]),
      );
      if (denied) return denied;
      return this.#jobs(req, url, jobs[1], jobs[2]);
    }
    if (pods?.[1]) {
      const denied = this.#denied(pods[1], "pods", "", verb(method, pods[2]));
      if (denied) return denied;
      if (method !== "GET") return methodNotAllowed();
      if (pods[2] && pods[3]) {
        const pod = this.#cluster.getPod(pods[1], pods[2]);
        return pod ? servePodLog(res, url, pod) : notFound("pods", pods[2]);
      }
      if (pods[2]) {
        const pod = this.#cluster.getPod(pods[1], pods[2]);
        return pod ? ok(pod.toJson()) : notFound("pods", pods[2]);
      }
      return this.#list(url, "PodList", (s) =>
        this.#cluster.listPods(pods[1], s),
      );
    }
    if (namespace?.[1] && method === "GET") {
      return this.#cluster.hasNamespace(namespace[1])
        ? ok({
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: namespace[1] },
            status: { phase: "Active" },
          })
        : notFound("namespaces", namespace[1]);
    }
    return failure(
      404,
      "NotFound",
      "the server could not find the requested resource",
    );
  }

  async #jobs(
    req: IncomingMessage,
    url: URL,
    namespace: string,
    name: string | undefined,
  ): Promise<StatusReply> {
    const method = req.method ?? "GET";
    if (name === undefined && method === "POST") {
      return this.#createJob(req, namespace);
    }
    if (name === undefined && method === "GET") {
      return this.#list(url, "JobList", (s) =>
        this.#cluster.listJobs(namespace, s),
      );
    }
    if (name !== undefined && method === "GET") {
      const job = this.#cluster.getJob(namespace, name);
      return job ? ok(job) : notFound("jobs.batch", name);
    }
    if (name !== undefined && method === "DELETE") {
      return this.#deleteJob(req, url, namespace, name);
    }
    return methodNotAllowed();
  }

  async #createJob(
    req: IncomingMessage,
    namespace: string,
  ): Promise<StatusReply> {
    const type = req.headers["content-type"] ?? "";
    if (!type.startsWith("application/json")) {
      return failure(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: application/json`,
      );
    }
    const body = await readJson(req);
    if (!isObject(body)) {
      return failure(
        400,
        "BadRequest",
        "the request body is not a JSON object",
      );
    }
    if (body.apiVersion !== "batch/v1" || body.kind !== "Job") {
      return failure(
        400,
        "BadRequest",
        `the API version in the data (${String(body.apiVersion)}) and kind (${String(body.kind)}) do not match batch/v1, Kind=Job`,
      );
    }
    const metadata = isObject(body.metadata) ? body.metadata : {};
    if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
      return failure(
        400,
        "BadRequest",
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
    if (!this.#cluster.hasNamespace(namespace)) {
      return notFound("namespaces", namespace);
    }
    const causes = validateJob(body);
    const name = String(metadata.name ?? "");
    if (causes.length > 0) return invalid("Job.batch", name, causes);
    const created = this.#cluster.createJob(namespace, body);
    if (created === undefined) {
      return failure(
        409,
        "AlreadyExists",
        `jobs.batch "${name}" already exists`,
        { name, group: "batch", kind: "jobs" },
      );
    }
    return { code: 201, body: created };
  }

  async #deleteJob(
    req: IncomingMessage,
    url: URL,
    namespace: string,
    name: string,
  ): Promise<StatusReply> {
    const body = await readJson(req);
    const fromBody = isObject(body) ? body.propagationPolicy : undefined;
    const asked = url.searchParams.get("propagationPolicy") ?? fromBody;
    if (
      asked !== undefined &&
      !["Orphan", "Background", "Foreground"].includes(String(asked))
    ) {
      return failure(
        400,
        "BadRequest",
        `propagationPolicy: Unsupported value: "${String(asked)}"`,
      );
    }
    const policy = (asked as PropagationPolicy | undefined) ?? "Orphan";
    const job = this.#cluster.getJob(namespace, name);
    if (!this.#cluster.deleteJob(namespace, name, policy)) {
      return notFound("jobs.batch", name);
    }
    this.deletions.push({
      namespace,
      name,
      propagationPolicy: asked as string | undefined,
    });
    const uid = isObject(job?.metadata) ? job.metadata.uid : undefined;
    return success({ name, group: "batch", kind: "jobs", uid });
  }

  #list(
    url: URL,
    kind: string,
    list: (s: LabelSelector) => Json[],
  ): StatusReply {
    let selector: LabelSelector;
    try {
      selector = parseLabelSelector(
        url.searchParams.get("labelSelector") ?? "",
      );
    } catch (error) {
      return failure(400, "BadRequest", (error as Error).message);
    }
    return ok({
      apiVersion: kind === "JobList" ? "batch/v1" : "v1",
      kind,
      metadata: { resourceVersion: "1" },
      items: list(selector),
    });
  }

  /** A container's log; with follow=true, streamed until it stops. */
  #denied(
    namespace: string,
    resource: string,
    group: string,
    action: string,
  ): StatusReply | undefined {
    if (!this.#forbidden.has(namespace)) return undefined;
    const full = group ? `${resource}.${group}` : resource;
    return failure(
      403,
      "Forbidden",
      `${full} is forbidden: User "${USER}" cannot ${action} resource "${resource}" in API group "${group}" in the namespace "${namespace}"`,
      { kind: resource, group },
    );
  }

  #injected(method: string, path: string): StatusReply | undefined {
    const found = this.#failures.find(
      (f) =>
        f.remaining > 0 &&
        (f.method === undefined || f.method === method) &&
        (f.path === undefined || f.path.test(path)),
    );
    if (!found) return undefined;
    found.remaining -= 1;
    if (found.status === 0) return { code: 0, body: {} };
    return failure(
      found.status,
      found.status === 429 ? "TooManyRequests" : "InternalError",
      `injected failure ${found.status}`,
    );
  }
}

function verb(method: string, name: string | undefined): string {
  if (method === "POST") return "create";
  if (method === "DELETE") return "delete";
  return name === undefined ? "list" : "get";
}
