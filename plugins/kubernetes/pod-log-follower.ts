import type { V1Pod } from "@kubernetes/client-node";
import type { TaskLogger } from "../../plugin-sdk/index.js";
import { LineSplitter } from "../process/index.js";
import { containerStatuses } from "./job-status.js";
import type { KubeApi } from "./kube-api.js";

/** Options of {@link PodLogFollower}. */
export interface PodLogFollowerOptions {
  api: KubeApi;
  namespace: string;
  /** Receives every log line (stdout and stderr are one stream here). */
  onLine(line: string): void;
  /** Called when a stream ends, as its container has likely stopped. */
  onStreamEnd(): void;
  log: TaskLogger;
}

interface Stream {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Follows the logs of a Job's pods: every container (init containers
 * first) once it has started, each once. Lines of a pod with more than one
 * container are prefixed `[container] `. A stream that breaks is not
 * reopened: the lines after the break are missing from the task's log
 * (reopening with `sinceTime` could repeat or skip lines within a second).
 */
export class PodLogFollower {
  readonly #options: PodLogFollowerOptions;
  readonly #streams = new Map<string, Stream>();

  constructor(options: PodLogFollowerOptions) {
    this.#options = options;
  }

  /** Starts following the containers of `pod` that have started. */
  observe(pod: V1Pod): void {
    const podName = pod.metadata?.name;
    if (podName === undefined) return;
    const containers =
      (pod.spec?.initContainers?.length ?? 0) +
      (pod.spec?.containers.length ?? 0);
    const prefixed = containers > 1;
    for (const status of containerStatuses(pod)) {
      const started = status.state?.running ?? status.state?.terminated;
      const key = `${podName}/${status.name}`;
      if (started === undefined || this.#streams.has(key)) continue;
      const prefix = prefixed ? `[${status.name}] ` : "";
      this.#streams.set(key, this.#follow(podName, status.name, prefix));
    }
  }

  /**
   * Waits up to `timeoutMs` for open streams to end by themselves (the
   * last lines of a finished container may still be on their way), then
   * stops the rest; an abort of `signal` stops them at once. False when
   * some had to be stopped.
   */
  async drain(timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    const all = Promise.all([...this.#streams.values()].map((s) => s.done));
    let stop: (() => void) | undefined;
    const stopped = new Promise<boolean>((resolve) => {
      stop = () => resolve(false);
    });
    const timer = setTimeout(() => stop?.(), timeoutMs);
    signal.addEventListener("abort", () => stop?.(), { once: true });
    if (signal.aborted) stop?.();
    const ended = await Promise.race([all.then(() => true), stopped]);
    clearTimeout(timer);
    this.stop();
    return ended;
  }

  /** Stops every stream. */
  stop(): void {
    for (const stream of this.#streams.values()) stream.controller.abort();
  }

  #follow(pod: string, container: string, prefix: string): Stream {
    const controller = new AbortController();
    const { api, namespace, onLine, log } = this.#options;
    const splitter = new LineSplitter((line) => onLine(prefix + line));
    const done = (async () => {
      try {
        const response = await api.followLog(
          namespace,
          pod,
          container,
          controller.signal,
        );
        for await (const chunk of response) splitter.push(chunk as Buffer);
      } catch (error) {
        if (!controller.signal.aborted) {
          log.warn("pod log stream failed", {
            pod,
            container,
            error: (error as Error).message,
          });
        }
      } finally {
        splitter.end();
        this.#options.onStreamEnd();
      }
    })();
    return { controller, done };
  }
}
