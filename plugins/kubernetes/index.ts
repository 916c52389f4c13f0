/** The built-in `kubernetes` task type. */
export type { KubernetesConfig } from "./kubernetes-config.js";
export { kubernetesConfigSchema } from "./kubernetes-config.js";
export {
  createKubernetesPlugin,
  kubernetesPlugin,
} from "./kubernetes-plugin.js";
export type { KubernetesPluginOptions } from "./kubernetes-plugin-options.js";
