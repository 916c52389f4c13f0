import type Docker from "dockerode";
import type { TaskLogger } from "../../plugin-sdk/index.js";
import type { PullPolicy } from "./docker-config.js";
import { engineMessage, engineStatus } from "./engine-error.js";

/** The image is not on the engine and the pull policy forbids a pull. */
export class ImageMissingError extends Error {
  override readonly name = "ImageMissingError";
  readonly code = "image_missing";
}

/**
 * A pull that failed. `permanent` when the registry said the image or
 * tag does not exist or access is denied: another attempt would fail the
 * same way. Network trouble and registry outages are not permanent.
 */
export class ImagePullError extends Error {
  override readonly name = "ImagePullError";
  readonly code = "image_pull_failed";
  readonly permanent: boolean;

  constructor(message: string, permanent: boolean, cause?: unknown) {
    super(message, { cause });
    this.permanent = permanent;
  }
}

const PERMANENT =
  /not found|manifest unknown|does not exist|denied|unauthorized|invalid reference|repository name must/i;

/** Options of {@link ensureImage}. */
export interface EnsureImageOptions {
  policy: PullPolicy;
  /** Aborting it cancels a pull in progress. */
  signal: AbortSignal;
  log: TaskLogger;
}

/**
 * Makes sure the engine has `image` under `policy`: Always pulls,
 * IfNotPresent pulls only when the engine lacks it, Never only checks.
 * Returns whether it pulled.
 */
export async function ensureImage(
  docker: Docker,
  image: string,
  options: EnsureImageOptions,
): Promise<boolean> {
  if (options.policy !== "Always") {
    if (await hasImage(docker, image)) return false;
    if (options.policy === "Never") {
      throw new ImageMissingError(
        `image ${JSON.stringify(image)} is not on the Docker engine and ` +
          "pull_policy is Never",
      );
    }
  }
  await pullImage(docker, image, options);
  return true;
}

async function hasImage(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (error) {
    if (engineStatus(error) === 404) return false;
    throw error;
  }
}

/**
 * Pulls and reads the engine's progress to the end. The engine reports a
 * failed pull inside a 200 response, as a JSON line with `error`, so the
 * lines are read rather than only the status.
 */
async function pullImage(
  docker: Docker,
  image: string,
  options: EnsureImageOptions,
): Promise<void> {
  options.log.info("pulling image", { image });
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.pull(image, { abortSignal: options.signal });
  } catch (error) {
    if (options.signal.aborted) throw error;
    const status = engineStatus(error);
    if (status === undefined) throw error;
    const message = engineMessage(error);
    throw new ImagePullError(
      `pulling image ${JSON.stringify(image)} failed: ${message}`,
      status === 404 || status === 400 || PERMANENT.test(message),
      error,
    );
  }
  const failure = await readProgress(stream, options.log);
  if (failure !== undefined) {
    throw new ImagePullError(
      `pulling image ${JSON.stringify(image)} failed: ${failure}`,
      PERMANENT.test(failure),
    );
  }
  options.log.info("image pulled", { image });
}

/** The `error` the engine reported in its progress lines, if any. */
async function readProgress(
  stream: NodeJS.ReadableStream,
  log: TaskLogger,
): Promise<string | undefined> {
  let failure: string | undefined;
  let buffered = "";
  const decoder = new TextDecoder();
  const seen = new Set<string>();
  const handle = (line: string) => {
    if (line.trim() === "") return;
    let event: { status?: unknown; error?: unknown; id?: unknown };
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof event.error === "string") failure ??= event.error;
    else if (typeof event.status === "string" && !seen.has(event.status)) {
      // Layer progress repeats the same few statuses per layer: one line
      // per distinct status is enough to see where a pull is.
      seen.add(event.status);
      log.debug("pull progress", { status: event.status });
    }
  };
  for await (const chunk of stream) {
    buffered +=
      typeof chunk === "string"
        ? chunk
        : decoder.decode(chunk as Buffer, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) handle(line);
  }
  handle(buffered);
  return failure;
}
