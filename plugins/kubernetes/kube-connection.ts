import { readFile, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { ConfigFieldError } from "./job-settings.js";
import type { KubeModule } from "./kube-module.js";

/** Where the plugin finds credentials when a task names no kubeconfig. */
export interface KubeEnvironment {
  /** KUBERNETES_SERVICE_HOST/PORT, KUBECONFIG and HOME are read here. */
  env: Readonly<Record<string, string | undefined>>;
  /** The mounted service account: token, ca.crt and namespace files. */
  serviceAccountDir: string;
}

/** The service account directory Kubernetes mounts into every pod. */
export const SERVICE_ACCOUNT_DIR =
  "/var/run/secrets/kubernetes.io/serviceaccount";

/** Kubeconfig files larger than this are refused unread. */
export const MAX_KUBECONFIG_BYTES = 4 * 1024 * 1024;

/** A loaded client configuration and what it points at. */
export interface KubeConnection {
  kubeConfig: KubeConfig;
  /** "in-cluster", or the kubeconfig file(s) read. */
  source: string;
  context: string;
  server: string;
  /** The namespace the context (or the service account) names. */
  namespace: string | undefined;
}

/**
 * Loads credentials: the task's kubeconfig file; else, like kubectl, the
 * pod's service account when running in a cluster, then $KUBECONFIG (a
 * list, merged; missing files skipped), then ~/.kube/config. Nothing is
 * contacted here. Problems are ConfigFieldErrors on `config.kubeconfig`
 * or `config.context`.
 */
export async function connectKube(
  k8s: KubeModule,
  wanted: { kubeconfig: string | undefined; context: string | undefined },
  environment: KubeEnvironment,
): Promise<KubeConnection> {
  const { env } = environment;
  let kubeConfig: KubeConfig;
  let source: string;
  let namespace: string | undefined;
  if (wanted.kubeconfig === undefined && env.KUBERNETES_SERVICE_HOST) {
    if (wanted.context !== undefined) {
      throw new ConfigFieldError(
        "config.context",
        "applies to a kubeconfig file, but the agent uses in-cluster " +
          "credentials (set config.kubeconfig too)",
      );
    }
    ({ kubeConfig, namespace } = await inCluster(k8s, environment));
    source = "in-cluster";
  } else {
    const files = await kubeconfigFiles(wanted.kubeconfig, env);
    kubeConfig = await loadFiles(k8s, files);
    source = files.join(delimiter);
    selectContext(kubeConfig, wanted.context, source);
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) {
    throw new ConfigFieldError(
      "config.kubeconfig",
      `${source}: the context "${kubeConfig.getCurrentContext()}" names ` +
        "no cluster the file defines",
    );
  }
  const context = kubeConfig.getCurrentContext();
  namespace ??= kubeConfig.getContextObject(context)?.namespace;
  return { kubeConfig, source, context, server: cluster.server, namespace };
}

async function inCluster(k8s: KubeModule, environment: KubeEnvironment) {
  const { env, serviceAccountDir } = environment;
  const tokenFile = join(serviceAccountDir, "token");
  if (!(await isFile(tokenFile))) {
    throw new ConfigFieldError(
      "config.kubeconfig",
      "not set, and KUBERNETES_SERVICE_HOST is set but the service " +
        `account token ${tokenFile} is missing`,
    );
  }
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT || "443";
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: "in-cluster",
        server,
        caFile: join(serviceAccountDir, "ca.crt"),
        skipTLSVerify: false,
      },
    ],
    users: [
      {
        name: "in-cluster",
        // Re-read every minute, so a rotated token is picked up.
        authProvider: { name: "tokenFile", config: { tokenFile } },
      },
    ],
    contexts: [
      { name: "in-cluster", cluster: "in-cluster", user: "in-cluster" },
    ],
    currentContext: "in-cluster",
  });
  const namespace = await readFile(join(serviceAccountDir, "namespace"), "utf8")
    .then((text) => text.trim() || undefined)
    .catch(() => undefined);
  return { kubeConfig, namespace };
}

async function kubeconfigFiles(
  configured: string | undefined,
  env: KubeEnvironment["env"],
): Promise<string[]> {
  if (configured !== undefined) {
    const path = expandHome(configured, env);
    if (!isAbsolute(path)) {
      throw new ConfigFieldError(
        "config.kubeconfig",
        `"${configured}" must be an absolute path or start with ~/`,
      );
    }
    if (!(await isFile(path))) {
      throw new ConfigFieldError(
        "config.kubeconfig",
        `${path} does not exist or is not a file`,
      );
    }
    await checkSize(path);
    return [path];
  }
  const listed = (env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  const candidates =
    listed.length > 0
      ? listed
      : env.HOME
        ? [join(env.HOME, ".kube", "config")]
        : [];
  const files: string[] = [];
  for (const file of candidates) {
    if (await isFile(file)) files.push(file);
  }
  for (const file of files) await checkSize(file);
  if (files.length === 0) {
    throw new ConfigFieldError(
      "config.kubeconfig",
      "not set, the agent is not in a cluster (KUBERNETES_SERVICE_HOST " +
        "is unset), and no kubeconfig was found in $KUBECONFIG or " +
        "~/.kube/config",
    );
  }
  return files;
}

async function loadFiles(
  k8s: KubeModule,
  files: string[],
): Promise<KubeConfig> {
  let merged: KubeConfig | undefined;
  for (const file of files) {
    const one = new k8s.KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (error) {
      throw new ConfigFieldError("config.kubeconfig", loadProblem(file, error));
    }
    if (merged === undefined) merged = one;
    else merged.mergeConfig(one, true);
  }
  if (merged === undefined) throw new Error("no kubeconfig files to load");
  return merged;
}

/**
 * Why a file did not load, without quoting it: a task may name any file
 * on the agent's host, and a YAML error would otherwise show its text.
 */
function loadProblem(file: string, error: unknown): string {
  const mark = (error as { mark?: { line?: number } }).mark;
  if ((error as Error).name === "YAMLException") {
    const where = mark?.line === undefined ? "" : ` at line ${mark.line + 1}`;
    return `${file} is not valid YAML${where}`;
  }
  if (error instanceof TypeError) {
    return `${file} is not a kubeconfig (no clusters, users and contexts)`;
  }
  return `${file} is not a valid kubeconfig: ${(error as Error).message}`;
}

function selectContext(
  kubeConfig: KubeConfig,
  wanted: string | undefined,
  source: string,
): void {
  const names = kubeConfig.getContexts().map((c) => c.name);
  if (names.length === 0) {
    throw new ConfigFieldError(
      "config.kubeconfig",
      `${source} is not a kubeconfig: it defines no contexts`,
    );
  }
  if (wanted !== undefined) {
    if (!names.includes(wanted)) {
      throw new ConfigFieldError(
        "config.context",
        `"${wanted}" is not a context of ${source} (it has: ` +
          `${names.join(", ")})`,
      );
    }
    kubeConfig.setCurrentContext(wanted);
    return;
  }
  if (!kubeConfig.getCurrentContext()) {
    throw new ConfigFieldError(
      "config.context",
      `${source} sets no current-context; name one (it has: ` +
        `${names.join(", ")})`,
    );
  }
}

function expandHome(path: string, env: KubeEnvironment["env"]): string {
  if (path === "~" || path.startsWith("~/")) {
    return join(env.HOME ?? "~", path.slice(1));
  }
  return path;
}

/** Refuses files no kubeconfig is as big as, before reading them whole. */
async function checkSize(path: string): Promise<void> {
  const { size } = await stat(path);
  if (size > MAX_KUBECONFIG_BYTES) {
    throw new ConfigFieldError(
      "config.kubeconfig",
      `${path} is ${size} bytes, more than a kubeconfig's limit of ` +
        `${MAX_KUBECONFIG_BYTES}`,
    );
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}
