import type { Text } from "../config-value.js";
import { Task } from "../task.js";
import type { TaskOptions } from "../task-options.js";

/** The config of a `docker` task (SPEC §6). */
export interface DockerConfig {
  image: Text;
  /** A shell string or an argv list. */
  command?: Text | Text[];
  entrypoint?: Text | Text[];
  working_dir?: Text;
  /** Container environment; `env` and `environment` are synonyms. */
  env?: Record<string, Text>;
  environment?: Record<string, Text>;
  /** "host:container[:ro]", or `{ source, target, read_only }`. */
  volumes?: (Text | { source: Text; target: Text; read_only?: boolean })[];
  /** Container limits, as Kubernetes quantities. */
  resources?: {
    cpu?: string | number;
    memory?: string | number;
    gpu?: number | string | { count?: number; type?: string };
  };
  /** Default IfNotPresent. */
  pull_policy?: "Always" | "IfNotPresent" | "Never";
  /** Default the local socket, or DOCKER_HOST. */
  docker_host?: Text;
  /** Remove the container afterwards; default true. */
  remove?: boolean;
  user?: Text;
  network?: Text;
  /** Whether the output keeps stdout/stderr tails; default true. */
  capture_output?: boolean;
}

/** A `docker` task: runs a container through the Docker Engine API. */
export class DockerTask extends Task<DockerConfig> {
  constructor(id: string, config: DockerConfig, options?: TaskOptions) {
    super(id, "docker", config, options);
  }
}
