import { stat } from "node:fs/promises";
import type Docker from "dockerode";
import type { Labels, PluginSdk } from "../../plugin-sdk/index.js";
import { dockerOptions } from "./docker-host.js";
import { engineMessage } from "./engine-error.js";

/** How long the probe waits for the engine to answer. */
export const PROBE_TIMEOUT_MS = 5_000;

/**
 * Asks the engine at `host` for its version. Labels: `docker`, the
 * engine's version ("20.10.24"). An engine that does not answer makes
 * the type unavailable on this agent (PluginUnavailableError), so no
 * docker task is sent where it cannot run.
 */
export async function probeDocker(
  sdk: PluginSdk,
  host: string,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<Labels> {
  // No socket, no engine: say so without loading the client at all.
  if (host.startsWith("unix://")) {
    const path = host.slice("unix://".length);
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (!exists) {
      throw new sdk.PluginUnavailableError(
        `no Docker engine answers at ${host}: connect ENOENT ${path}`,
      );
    }
  }
  let docker: Docker;
  const { default: DockerClient } = await import("dockerode");
  try {
    docker = new DockerClient(dockerOptions(host));
  } catch (error) {
    throw new sdk.PluginUnavailableError(
      `docker engine address ${host}: ${engineMessage(error)}`,
    );
  }
  try {
    const version = await versionOf(docker, timeoutMs);
    return { docker: String(version.Version) };
  } catch (error) {
    throw new sdk.PluginUnavailableError(
      `no Docker engine answers at ${host}: ${engineMessage(error)}`,
    );
  }
}

/**
 * dockerode's `version()` takes `{ abortSignal }` at run time, but its
 * type definitions do not say so; this names the shape it really has.
 */
function versionOf(
  docker: Docker,
  timeoutMs: number,
): Promise<Docker.DockerVersion> {
  const version = docker.version as unknown as (options: {
    abortSignal: AbortSignal;
  }) => Promise<Docker.DockerVersion>;
  return version.call(docker, { abortSignal: AbortSignal.timeout(timeoutMs) });
}
