import type { ConfigSchema } from "../../plugin-sdk/index.js";

/** When the engine pulls a task's image. */
export type PullPolicy = "Always" | "IfNotPresent" | "Never";

/** The pull policies, in the spelling of the config. */
export const PULL_POLICIES: readonly PullPolicy[] = [
  "Always",
  "IfNotPresent",
  "Never",
];

/** A volume in object form. */
export interface VolumeObject {
  /** A host path (absolute, or relative to the work directory) or name. */
  source: string;
  /** The absolute path inside the container. */
  target: string;
  read_only?: boolean;
}

/** GPUs for the container: a count, or a count with a type. */
export type GpuRequest = number | string | { count?: number; type?: string };

/** Container limits. Quantities as in SPEC §3. */
export interface DockerResources {
  cpu?: string | number;
  memory?: string | number;
  gpu?: GpuRequest;
}

/** The config of a `docker` task, after templates are rendered. */
export interface DockerConfig {
  image: string;
  command?: string | string[];
  entrypoint?: string | string[];
  working_dir?: string;
  env?: Record<string, string>;
  environment?: Record<string, string>;
  volumes?: (string | VolumeObject)[];
  resources?: DockerResources;
  pull_policy?: PullPolicy;
  docker_host?: string;
  remove?: boolean;
  user?: string;
  network?: string;
  capture_output?: boolean;
}

const QUANTITY_PATTERN =
  "^\\+?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$";

const quantity = (what: string) => ({
  anyOf: [
    { type: "string", pattern: QUANTITY_PATTERN },
    { type: "number", exclusiveMinimum: 0 },
  ],
  description: what,
});

const envMap = (what: string) => ({
  type: "object",
  additionalProperties: { type: "string" },
  description: what,
});

const argv = { type: "array", items: { type: "string" }, minItems: 1 };

/** The JSON Schema of {@link DockerConfig}. */
export const dockerConfigSchema: ConfigSchema = {
  type: "object",
  description: "Runs one container on a Docker engine.",
  properties: {
    image: {
      type: "string",
      minLength: 1,
      description: 'The image reference, for example "alpine:3.20".',
    },
    command: {
      anyOf: [{ type: "string", minLength: 1, "x-encoding": "shell" }, argv],
      description:
        "A string runs as [/bin/sh, -c, command] in the container (template " +
        "values are shell-quoted; not allowed with entrypoint); a list is " +
        "the argv given to the image's entrypoint. Default: the image's CMD.",
    },
    entrypoint: {
      anyOf: [{ type: "string", minLength: 1 }, argv],
      description:
        "Replaces the image's entrypoint: one program, or an argv list.",
    },
    working_dir: {
      type: "string",
      pattern: "^/",
      description: "Absolute directory inside the container to run in.",
    },
    env: envMap(
      "Environment variables of the container, set over the task's env.",
    ),
    environment: envMap(
      "The same as env (the Compose spelling); env wins on a clash.",
    ),
    volumes: {
      type: "array",
      items: {
        anyOf: [
          {
            type: "string",
            pattern: "^[^:]+:/[^:]*(:(ro|rw))?$",
          },
          {
            type: "object",
            properties: {
              source: { type: "string", minLength: 1 },
              target: { type: "string", pattern: "^/" },
              read_only: { type: "boolean" },
            },
            required: ["source", "target"],
            additionalProperties: false,
          },
        ],
      },
      description:
        'Mounts: "source:target[:ro]" or {source, target, read_only}. A ' +
        "source that is an absolute path, or starts with ./ or ../ (taken " +
        "from the work directory), is bind-mounted and must exist; any " +
        "other source is a named volume.",
    },
    resources: {
      type: "object",
      properties: {
        cpu: quantity('CPU cores: "500m", "2" or a number of cores.'),
        memory: quantity(
          'Memory limit: "512Mi", "1G" or bytes. Swap is not added.',
        ),
        gpu: {
          anyOf: [
            { type: "integer", minimum: 1 },
            { type: "string", pattern: "^[1-9][0-9]*$" },
            {
              type: "object",
              properties: {
                count: { type: "integer", minimum: 1 },
                type: { type: "string", minLength: 1 },
              },
              additionalProperties: false,
            },
          ],
          description:
            "GPUs as a Docker device request: a count, or {count, type}. " +
            "GPUs the agent allocated are requested by index instead.",
        },
      },
      additionalProperties: false,
      description:
        "Container limits. Where one is not set, the attempt's allocated " +
        "resources are the limit.",
    },
    pull_policy: {
      enum: [...PULL_POLICIES],
      default: "IfNotPresent",
      description:
        "Always pulls; IfNotPresent pulls when the engine lacks the image; " +
        "Never fails when it lacks it.",
    },
    docker_host: {
      type: "string",
      pattern: "^(unix|tcp|http|https)://",
      description:
        "The engine: unix:///path/to/docker.sock or tcp://host:port. " +
        "Default: the agent's DOCKER_HOST, else unix:///var/run/docker.sock.",
    },
    remove: {
      type: "boolean",
      default: true,
      description: "Whether the container is removed after it ends.",
    },
    user: {
      type: "string",
      minLength: 1,
      description: 'The user to run as: "name", "uid" or "uid:gid".',
    },
    network: {
      type: "string",
      minLength: 1,
      description:
        'The network mode: "none", "host", "bridge" or a network name.',
    },
    capture_output: {
      type: "boolean",
      default: true,
      description:
        "Whether the output gets `stdout` and `stderr` (their last 4 KiB). " +
        "The lines reach the task's log either way.",
    },
  },
  required: ["image"],
  additionalProperties: false,
};
