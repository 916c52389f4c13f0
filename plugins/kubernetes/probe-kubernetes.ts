import { readFile, stat } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { parse } from "yaml";
import type { Labels } from "../../plugin-sdk/index.js";
import {
  type KubeEnvironment,
  MAX_KUBECONFIG_BYTES,
} from "./kube-connection.js";

/**
 * The `kubernetes_context` label: "in-cluster" when the agent runs in a
 * pod, else the current-context of the kubeconfig a task without its own
 * would use. Reads files only (and not the heavy client library): no
 * cluster is contacted. No label when there are no credentials; the type
 * is still advertised, since a task may name its own kubeconfig.
 */
export async function probeKubernetes(
  environment: KubeEnvironment,
): Promise<Labels> {
  const { env } = environment;
  if (env.KUBERNETES_SERVICE_HOST) {
    const token = join(environment.serviceAccountDir, "token");
    const found = await readFile(token).then(
      () => true,
      () => false,
    );
    return found ? { kubernetes_context: "in-cluster" } : {};
  }
  const listed = (env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  const files =
    listed.length > 0
      ? listed
      : env.HOME
        ? [join(env.HOME, ".kube", "config")]
        : [];
  for (const file of files) {
    const context = await currentContext(file);
    if (context !== undefined) return { kubernetes_context: context };
  }
  return {};
}

async function currentContext(file: string): Promise<string | undefined> {
  try {
    if ((await stat(file)).size > MAX_KUBECONFIG_BYTES) return undefined;
    const document: unknown = parse(await readFile(file, "utf8"));
    const context = (document as Record<string, unknown> | null)?.[
      "current-context"
    ];
    return typeof context === "string" && context !== "" ? context : undefined;
  } catch {
    return undefined;
  }
}
