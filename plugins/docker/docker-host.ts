import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DockerOptions } from "dockerode";

/** The engine used when neither config nor environment names one. */
export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** A docker_host (or DOCKER_HOST) that cannot be used. */
export class DockerHostError extends Error {
  override readonly name = "DockerHostError";
  readonly code = "invalid_docker_host";
}

/**
 * The engine address in force: the task's `docker_host`, else the
 * plugin's option, else `DOCKER_HOST` from the agent's environment, else
 * {@link DEFAULT_DOCKER_HOST}.
 */
export function chooseDockerHost(
  configured: string | undefined,
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  for (const candidate of [configured, option, env.DOCKER_HOST]) {
    if (candidate !== undefined && candidate !== "") return candidate;
  }
  return DEFAULT_DOCKER_HOST;
}

/**
 * Dockerode options for an engine address: `unix:///path`, or
 * `tcp://host:port` / `http://` / `https://`. TCP uses TLS when the
 * scheme is https, the port is 2376 or `DOCKER_TLS_VERIFY=1`, with
 * ca.pem, cert.pem and key.pem from `DOCKER_CERT_PATH` (when set).
 *
 * Every connection field is set, even to undefined: docker-modem merges
 * its own reading of the process's DOCKER_HOST under what it is given,
 * and a stray `host` from there would win over our `socketPath`.
 */
export function dockerOptions(
  address: string,
  env: NodeJS.ProcessEnv = process.env,
): DockerOptions {
  const unset: DockerOptions = {
    socketPath: undefined,
    host: undefined,
    port: undefined,
    protocol: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
  };
  if (address.startsWith("unix://")) {
    const socketPath = address.slice("unix://".length);
    if (!socketPath.startsWith("/")) {
      throw new DockerHostError(
        `${JSON.stringify(address)} needs an absolute socket path, like ` +
          "unix:///var/run/docker.sock",
      );
    }
    return { ...unset, socketPath, protocol: "http" };
  }
  const url = parseTcp(address);
  const tls =
    url.protocol === "https:" ||
    url.port === "2376" ||
    env.DOCKER_TLS_VERIFY === "1";
  const options: DockerOptions = {
    ...unset,
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? (tls ? 2376 : 2375) : Number(url.port),
    protocol: tls ? "https" : "http",
  };
  if (tls && env.DOCKER_CERT_PATH) {
    const dir = env.DOCKER_CERT_PATH;
    options.ca = readFileSync(join(dir, "ca.pem"));
    options.cert = readFileSync(join(dir, "cert.pem"));
    options.key = readFileSync(join(dir, "key.pem"));
  }
  return options;
}

function parseTcp(address: string): URL {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new DockerHostError(
      `${JSON.stringify(address)} is not an engine address (like ` +
        "unix:///var/run/docker.sock or tcp://127.0.0.1:2375)",
    );
  }
  if (!["tcp:", "http:", "https:"].includes(url.protocol)) {
    throw new DockerHostError(
      `${JSON.stringify(address)}: scheme ${url.protocol} is not supported ` +
        "(use unix://, tcp://, http:// or https://)",
    );
  }
  if (url.hostname === "") {
    throw new DockerHostError(`${JSON.stringify(address)} has no host`);
  }
  return url;
}
