/** The @kubernetes/client-node module, as the plugin uses it. */
export type KubeModule = typeof import("@kubernetes/client-node");

let loading: Promise<KubeModule> | undefined;

/**
 * Imports @kubernetes/client-node on first use. The module takes most of
 * a second to load, and an agent that never runs a `kubernetes` task
 * should not pay for it at start.
 */
export function loadKubeModule(): Promise<KubeModule> {
  loading ??= import("@kubernetes/client-node");
  return loading;
}
