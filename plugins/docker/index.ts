/** The built-in `docker` task type. */

export { CONTAINER_LABELS, containerSpec } from "./container-spec.js";
export type {
  DockerConfig,
  DockerResources,
  GpuRequest,
  PullPolicy,
  VolumeObject,
} from "./docker-config.js";
export { dockerConfigSchema, PULL_POLICIES } from "./docker-config.js";
export {
  chooseDockerHost,
  DEFAULT_DOCKER_HOST,
  DockerHostError,
  dockerOptions,
} from "./docker-host.js";
export type { DockerPluginOptions } from "./docker-plugin.js";
export { createDockerPlugin, dockerPlugin } from "./docker-plugin.js";
export {
  parseCpuNanos,
  parseMemoryBytes,
  parseQuantity,
  QuantityError,
} from "./parse-quantity.js";
export { probeDocker } from "./probe-docker.js";
export type { ContainerExit, RunContainerOptions } from "./run-container.js";
export {
  ContainerCreateError,
  ContainerStartError,
  runContainer,
} from "./run-container.js";
