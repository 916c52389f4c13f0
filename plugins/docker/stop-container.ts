import type Docker from "dockerode";
import { engineStatus } from "./engine-error.js";

/** Options of {@link stopContainer}. */
export interface StopContainerOptions {
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Settles when the container has exited (its wait request returned). */
  exited: Promise<unknown>;
}

/**
 * Stops a running container the way `docker stop` does, with a grace in
 * milliseconds rather than whole seconds: SIGTERM, then SIGKILL if it has
 * not exited within the grace. Resolves once both steps are done or the
 * container is gone. A container that already stopped (409) or was
 * removed (404) is not an error.
 */
export async function stopContainer(
  container: Docker.Container,
  options: StopContainerOptions,
): Promise<void> {
  const exited = options.exited.then(
    () => true,
    () => true,
  );
  await signal(container, "SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), options.killGraceMs);
  });
  const done = await Promise.race([exited, graceOver]);
  clearTimeout(timer);
  if (!done) await signal(container, "SIGKILL");
}

async function signal(
  container: Docker.Container,
  name: "SIGTERM" | "SIGKILL",
): Promise<void> {
  try {
    await container.kill({ signal: name });
  } catch (error) {
    const status = engineStatus(error);
    if (status === 404 || status === 409) return;
    throw error;
  }
}
