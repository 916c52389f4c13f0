import type Docker from "dockerode";
import type { ContainerCreateOptions } from "dockerode";
import type { TaskLogger } from "../../plugin-sdk/index.js";
import {
  DEFAULT_TAIL_BYTES,
  LineSplitter,
  OutputTail,
} from "../process/index.js";
import { engineMessage, engineStatus } from "./engine-error.js";
import { stopContainer } from "./stop-container.js";
import { StreamDemuxer, type StreamName } from "./stream-demuxer.js";

/** How long output may trail the container's exit before it is cut. */
const OUTPUT_DRAIN_MS = 10_000;

/** Options of {@link runContainer}. */
export interface RunContainerOptions {
  spec: ContainerCreateOptions;
  /** Aborting it stops the container (SIGTERM, then SIGKILL). */
  signal: AbortSignal;
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Whether the container is removed afterwards, whatever happened. */
  remove: boolean;
  onStdout(line: string): void;
  onStderr(line: string): void;
  /** Called once the container exists, before it starts. */
  onCreated?(containerId: string): void;
  log: TaskLogger;
  /** Size of each kept output tail. Default 4 KiB. */
  tailBytes?: number;
}

/** How a container run by {@link runContainer} ended. */
export interface ContainerExit {
  containerId: string;
  /** False when the signal aborted before the container started. */
  started: boolean;
  /** The exit code; undefined when it never started. */
  exitCode: number | undefined;
  /** True when the kernel killed it for passing its memory limit. */
  oomKilled: boolean;
  /** True when `signal` aborted, whether or not it had started. */
  aborted: boolean;
  stdoutTail: string;
  stderrTail: string;
}

/** The engine refused to create the container. */
export class ContainerCreateError extends Error {
  override readonly name = "ContainerCreateError";
  readonly code = "container_create_failed";
  readonly status: number | undefined;

  constructor(cause: unknown) {
    super(`creating the container failed: ${engineMessage(cause)}`, {
      cause,
    });
    this.status = engineStatus(cause);
  }
}

/** The engine refused to start the created container. */
export class ContainerStartError extends Error {
  override readonly name = "ContainerStartError";
  readonly code = "container_start_failed";
  readonly status: number | undefined;

  constructor(cause: unknown) {
    super(`starting the container failed: ${engineMessage(cause)}`, {
      cause,
    });
    this.status = engineStatus(cause);
  }
}

/**
 * Creates, attaches to, starts and waits for one container, streaming its
 * stdout and stderr apart, line by line. The output is attached before
 * the start so no early line is lost. On abort the container is stopped;
 * with `remove` it is removed at the end in every case, including a
 * failed start. Rejects when the engine refuses the create
 * ({@link ContainerCreateError}) or the start ({@link ContainerStartError})
 * or fails on the way (the dockerode error).
 */
export async function runContainer(
  docker: Docker,
  options: RunContainerOptions,
): Promise<ContainerExit> {
  let container: Docker.Container;
  try {
    container = await docker.createContainer(options.spec);
  } catch (error) {
    // Unreachable engines are told apart by the caller.
    if (engineStatus(error) === undefined) throw error;
    throw new ContainerCreateError(error);
  }
  options.onCreated?.(container.id);
  try {
    return await runCreated(container, options);
  } finally {
    if (options.remove) await removeContainer(container, options.log);
  }
}

async function runCreated(
  container: Docker.Container,
  options: RunContainerOptions,
): Promise<ContainerExit> {
  const output = new AttachedOutput(options);
  const exit = (fields: Partial<ContainerExit>): ContainerExit => ({
    containerId: container.id,
    started: true,
    exitCode: undefined,
    oomKilled: false,
    aborted: options.signal.aborted,
    ...output.tails(),
    ...fields,
  });
  if (options.signal.aborted) return exit({ started: false });
  output.attach(
    await container.attach({ stream: true, stdout: true, stderr: true }),
  );
  if (options.signal.aborted) {
    output.close();
    return exit({ started: false });
  }
  try {
    await container.start();
  } catch (error) {
    output.close();
    throw new ContainerStartError(error);
  }
  options.log.info("container started", { container_id: container.id });
  const statusCode = await waitStopping(container, options);
  await output.drained(options.log);
  const state = await inspectState(container, options.log);
  options.log.info("container exited", {
    container_id: container.id,
    exit_code: state.exitCode ?? statusCode,
    oom_killed: state.oomKilled,
  });
  return exit({
    exitCode: state.exitCode ?? statusCode,
    oomKilled: state.oomKilled,
    aborted: options.signal.aborted,
  });
}

/** Waits for the exit, stopping the container if the signal aborts. */
async function waitStopping(
  container: Docker.Container,
  options: RunContainerOptions,
): Promise<number> {
  const waited: Promise<{ StatusCode?: number }> = container.wait();
  let stopping: Promise<void> | undefined;
  const onAbort = () => {
    options.log.info("stopping container", {
      container_id: container.id,
      kill_grace_ms: options.killGraceMs,
    });
    stopping = stopContainer(container, {
      killGraceMs: options.killGraceMs,
      exited: waited,
    }).catch((error: unknown) => {
      options.log.error("stopping the container failed", {
        container_id: container.id,
        error: engineMessage(error),
      });
    });
  };
  options.signal.addEventListener("abort", onAbort, { once: true });
  if (options.signal.aborted) onAbort();
  try {
    const result = await waited;
    return result.StatusCode ?? -1;
  } finally {
    options.signal.removeEventListener("abort", onAbort);
    await stopping;
  }
}

async function inspectState(
  container: Docker.Container,
  log: TaskLogger,
): Promise<{ exitCode: number | undefined; oomKilled: boolean }> {
  try {
    const info = await container.inspect();
    return { exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled };
  } catch (error) {
    log.warn("reading the container's exit state failed", {
      container_id: container.id,
      error: engineMessage(error),
    });
    return { exitCode: undefined, oomKilled: false };
  }
}

/**
 * Removes the container and its anonymous volumes. A failure is logged,
 * not thrown: the attempt's outcome is already decided, and the labels
 * let an operator find what was left.
 */
async function removeContainer(
  container: Docker.Container,
  log: TaskLogger,
): Promise<void> {
  try {
    await container.remove({ force: true, v: true });
    log.debug("container removed", { container_id: container.id });
  } catch (error) {
    if (engineStatus(error) === 404) return;
    log.error("removing the container failed; it is left behind", {
      container_id: container.id,
      error: engineMessage(error),
    });
  }
}

/** The attach stream, demultiplexed into lines and tails. */
class AttachedOutput {
  readonly #tails: Record<StreamName, OutputTail>;
  readonly #lines: Record<StreamName, LineSplitter>;
  #stream: NodeJS.ReadWriteStream | undefined;
  #ended: Promise<void> = Promise.resolve();

  constructor(options: RunContainerOptions) {
    const tailBytes = options.tailBytes ?? DEFAULT_TAIL_BYTES;
    this.#tails = {
      stdout: new OutputTail(tailBytes),
      stderr: new OutputTail(tailBytes),
    };
    const splitter = (name: StreamName, emit: (line: string) => void) =>
      new LineSplitter((line) => {
        this.#tails[name].push(line);
        emit(line);
      });
    this.#lines = {
      stdout: splitter("stdout", options.onStdout),
      stderr: splitter("stderr", options.onStderr),
    };
  }

  attach(stream: NodeJS.ReadWriteStream): void {
    this.#stream = stream;
    const demuxer = new StreamDemuxer((name, chunk) =>
      this.#lines[name].push(chunk),
    );
    stream.on("data", (chunk: Buffer) => demuxer.push(chunk));
    this.#ended = new Promise<void>((resolve) => {
      stream.once("end", resolve);
      stream.once("close", resolve);
      stream.once("error", () => resolve());
    }).then(() => {
      this.#lines.stdout.end();
      this.#lines.stderr.end();
    });
  }

  /** Waits for the stream's end, cutting it off after a bound. */
  async drained(log: TaskLogger): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), OUTPUT_DRAIN_MS);
    });
    const cut = await Promise.race([this.#ended.then(() => false), late]);
    clearTimeout(timer);
    if (cut) {
      log.warn("container output did not end after its exit; cut off", {
        waited_ms: OUTPUT_DRAIN_MS,
      });
      this.close();
    }
  }

  close(): void {
    const stream = this.#stream as unknown as { destroy?: () => void };
    stream?.destroy?.();
  }

  tails(): Pick<ContainerExit, "stdoutTail" | "stderrTail"> {
    return {
      stdoutTail: this.#tails.stdout.toString(),
      stderrTail: this.#tails.stderr.toString(),
    };
  }
}
