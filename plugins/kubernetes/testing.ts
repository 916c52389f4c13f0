/**
 * Test helpers for the kubernetes plugin: the API server stand-in and the
 * files that point a client at it (a kubeconfig, or an in-cluster
 * service account directory). Not part of the agent.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import type { KubernetesStandIn } from "./kubernetes-stand-in.js";

export type {
  KubernetesStandInOptions,
  StandInDeletion,
  StandInRequest,
} from "./kubernetes-stand-in.js";
export { KubernetesStandIn } from "./kubernetes-stand-in.js";

/** A PEM key and certificate. */
export interface StandInCertificate {
  key: string;
  cert: string;
}

/**
 * A self-signed certificate for 127.0.0.1, made with the openssl command,
 * so the stand-in can serve HTTPS as a real API server does.
 */
export async function createStandInCertificate(
  dir: string,
): Promise<StandInCertificate> {
  const keyFile = join(dir, "stand-in.key");
  const certFile = join(dir, "stand-in.crt");
  await promisify(execFile)("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=kubernetes-stand-in",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-keyout",
    keyFile,
    "-out",
    certFile,
  ]);
  return {
    key: await readFile(keyFile, "utf8"),
    cert: await readFile(certFile, "utf8"),
  };
}

/** Options of {@link writeKubeconfig}. */
export interface StandInKubeconfigOptions {
  /** The context's name. Default "stand-in". */
  context?: string;
  /** The context's namespace. Default: none. */
  namespace?: string;
  /** The CA to trust (the stand-in's certificate) when it serves HTTPS. */
  ca?: string;
  /** Default: the stand-in's token. */
  token?: string;
  /** More contexts on the same cluster, each with its namespace. */
  extraContexts?: Record<string, string>;
}

/**
 * Writes a kubeconfig file for the stand-in, the way kubectl would read
 * it: one cluster (HTTP needs insecure-skip-tls-verify, which the client
 * library requires for plain HTTP), one token user, and a current
 * context. Returns the path.
 */
export async function writeKubeconfig(
  path: string,
  standIn: KubernetesStandIn,
  options: StandInKubeconfigOptions = {},
): Promise<string> {
  const contextName = options.context ?? "stand-in";
  const cluster: Record<string, unknown> = { server: standIn.url };
  if (options.ca !== undefined) {
    cluster["certificate-authority-data"] = Buffer.from(options.ca).toString(
      "base64",
    );
  } else {
    cluster["insecure-skip-tls-verify"] = true;
  }
  const context = (name: string, namespace: string | undefined) => ({
    name,
    context: {
      cluster: "stand-in",
      user: "stand-in",
      ...(namespace ? { namespace } : {}),
    },
  });
  const document = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "stand-in", cluster }],
    users: [
      { name: "stand-in", user: { token: options.token ?? standIn.token } },
    ],
    contexts: [
      context(contextName, options.namespace),
      ...Object.entries(options.extraContexts ?? {}).map(([name, ns]) =>
        context(name, ns),
      ),
    ],
    "current-context": contextName,
  };
  await writeFile(path, stringify(document), { mode: 0o600 });
  return path;
}

/**
 * Writes a service account directory (token, ca.crt, namespace) as
 * Kubernetes mounts it into a pod, and returns the environment a pod
 * would have: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT.
 * The stand-in must serve HTTPS with `ca`, as in-cluster clients always
 * use TLS.
 */
export async function writeServiceAccount(
  dir: string,
  standIn: KubernetesStandIn,
  options: { ca: string; namespace?: string },
): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "token"), standIn.token, { mode: 0o600 });
  await writeFile(join(dir, "ca.crt"), options.ca);
  if (options.namespace !== undefined) {
    await writeFile(join(dir, "namespace"), options.namespace);
  }
  const url = new URL(standIn.url);
  return {
    KUBERNETES_SERVICE_HOST: url.hostname,
    KUBERNETES_SERVICE_PORT: url.port,
  };
}
