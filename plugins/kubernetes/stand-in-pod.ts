import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";

type Json = Record<string, unknown>;

/** A container's state, as in the pod's status. */
type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | {
      terminated: {
        exitCode: number;
        reason: string;
        message?: string;
        startedAt?: string;
        finishedAt: string;
      };
    };

/** One simulated container: its script, state and log. */
export interface StandInContainer {
  name: string;
  image: string;
  init: boolean;
  script: string[];
  env: Record<string, string>;
  state: ContainerState;
  lines: string[];
  /** Emits "line" (text) and "end" when the container has stopped. */
  events: EventEmitter;
}

/** What a simulated pod needs from the cluster around it. */
export interface StandInPodHooks {
  /** Delay of one simulated step (image pull, container start). */
  stepMs: number;
  /** Aborted when the stand-in closes. */
  signal: AbortSignal;
  isImageMissing(image: string): boolean;
  /** Called when the pod reaches Succeeded or Failed. */
  onFinished(pod: StandInPod): void;
  /** Called on every status change, to bump the resourceVersion. */
  onChange(): void;
}

const now = () => new Date().toISOString();

/**
 * A pod the stand-in "runs". Each container runs a script taken from its
 * `args`, one step per item: `echo TEXT` logs a line, `env NAME` logs
 * `NAME=value` from the container's env, `sleep MS` waits, `exit CODE`
 * stops with that code, `oom` stops with 137 as OOMKilled, `hang` runs
 * until the pod is killed. A script that runs out exits 0; an unknown step
 * exits 127. Init containers run one after another before the others. An
 * image whose name starts with `missing/` is never pulled: the container
 * waits in ErrImagePull, then ImagePullBackOff.
 */
export class StandInPod {
  readonly object: Json;
  readonly containers: StandInContainer[];
  phase: "Pending" | "Running" | "Succeeded" | "Failed" = "Pending";
  startTime: string | undefined;
  deletionTimestamp: string | undefined;
  readonly #hooks: StandInPodHooks;
  readonly #kill = new AbortController();

  constructor(object: Json, hooks: StandInPodHooks) {
    this.object = object;
    this.#hooks = hooks;
    const spec = object.spec as Json;
    const hasInit = ((spec.initContainers as unknown[]) ?? []).length > 0;
    const make = (item: unknown, init: boolean): StandInContainer => {
      const waitingReason =
        hasInit && !init ? "PodInitializing" : "ContainerCreating";
      const c = item as Json;
      const env: Record<string, string> = {};
      for (const e of (c.env as Json[] | undefined) ?? []) {
        if (typeof e.value === "string") env[String(e.name)] = e.value;
      }
      return {
        name: String(c.name),
        image: String(c.image),
        init,
        script: ((c.args as unknown[] | undefined) ?? []).map(String),
        env,
        state: { waiting: { reason: waitingReason } },
        lines: [],
        events: new EventEmitter(),
      };
    };
    this.containers = [
      ...((spec.initContainers as unknown[] | undefined) ?? []).map((c) =>
        make(c, true),
      ),
      ...(spec.containers as unknown[]).map((c) => make(c, false)),
    ];
  }

  get name(): string {
    return String((this.object.metadata as Json).name);
  }

  /** True once every container has stopped. */
  get stopped(): boolean {
    return this.containers.every((c) => "terminated" in c.state);
  }

  /** Schedules the pod and runs it, in the background. */
  start(): void {
    this.#run().catch(() => {
      // Aborted by a kill or by the stand-in closing.
    });
  }

  /**
   * Stops every container that has not stopped, as SIGTERM would: exit
   * 143. Containers that never started stop too, without a code of
   * their own.
   */
  kill(): void {
    const ended = this.phase === "Succeeded" || this.phase === "Failed";
    for (const container of ended ? [] : this.containers) {
      if ("terminated" in container.state) continue;
      const startedAt =
        "running" in container.state
          ? container.state.running.startedAt
          : undefined;
      this.#terminate(container, 143, "Error", startedAt);
    }
    this.#kill.abort();
    this.#settle();
  }

  /** The pod as the API returns it. */
  toJson(): Json {
    const statuses = (init: boolean) =>
      this.containers
        .filter((c) => c.init === init)
        .map((c) => ({
          name: c.name,
          image: c.image,
          imageID: "",
          ready: "running" in c.state,
          started: "running" in c.state,
          restartCount: 0,
          state: c.state,
        }));
    const metadata = {
      ...(this.object.metadata as Json),
      ...(this.deletionTimestamp
        ? { deletionTimestamp: this.deletionTimestamp }
        : {}),
    };
    return {
      ...this.object,
      metadata,
      status: {
        phase: this.phase,
        conditions: [{ type: "PodScheduled", status: "True" }],
        ...(this.startTime ? { startTime: this.startTime } : {}),
        initContainerStatuses: statuses(true),
        containerStatuses: statuses(false),
      },
    };
  }

  async #run(): Promise<void> {
    await this.#wait(this.#hooks.stepMs);
    this.startTime = now();
    this.#hooks.onChange();
    const missing = this.containers.find((c) =>
      this.#hooks.isImageMissing(c.image),
    );
    if (missing) return this.#failPull(missing);
    for (const container of this.containers.filter((c) => c.init)) {
      await this.#runContainer(container);
      if (!this.#exitedZero(container)) return this.#failPod();
    }
    await Promise.all(
      this.containers.filter((c) => !c.init).map((c) => this.#runContainer(c)),
    );
  }

  async #failPull(container: StandInContainer): Promise<void> {
    container.state = {
      waiting: {
        reason: "ErrImagePull",
        message: `failed to pull image "${container.image}": not found`,
      },
    };
    this.#hooks.onChange();
    await this.#wait(this.#hooks.stepMs);
    container.state = {
      waiting: {
        reason: "ImagePullBackOff",
        message: `Back-off pulling image "${container.image}"`,
      },
    };
    this.#hooks.onChange();
  }

  /**
   * An init container failed: with restartPolicy Never the pod fails and
   * the other containers never start.
   */
  #failPod(): void {
    this.phase = "Failed";
    for (const container of this.containers) {
      if (!("terminated" in container.state)) {
        container.state = { waiting: { reason: "PodInitializing" } };
        container.events.emit("end");
      }
    }
    this.#hooks.onChange();
    this.#hooks.onFinished(this);
  }

  async #runContainer(container: StandInContainer): Promise<void> {
    await this.#wait(this.#hooks.stepMs);
    const startedAt = now();
    container.state = { running: { startedAt } };
    // As in Kubernetes: Pending while init containers run, Running once a
    // regular container does.
    if (!container.init && this.phase === "Pending") this.phase = "Running";
    this.#hooks.onChange();
    const stop = (code: number, reason: string) => {
      this.#terminate(container, code, reason, startedAt);
      this.#settle();
    };
    for (const step of container.script) {
      const space = step.indexOf(" ");
      const verb = space === -1 ? step : step.slice(0, space);
      const rest = space === -1 ? "" : step.slice(space + 1);
      if (verb === "echo") this.#log(container, rest);
      else if (verb === "env") {
        this.#log(container, `${rest}=${container.env[rest] ?? ""}`);
      } else if (verb === "sleep") await this.#wait(Number(rest));
      else if (verb === "hang") await this.#wait(2 ** 31 - 1);
      else if (verb === "exit") return stop(Number(rest), exitReason(rest));
      else if (verb === "oom") return stop(137, "OOMKilled");
      else {
        this.#log(container, `stand-in: unknown step: ${step}`);
        return stop(127, "Error");
      }
    }
    stop(0, "Completed");
  }

  #log(container: StandInContainer, line: string): void {
    container.lines.push(line);
    container.events.emit("line", line);
  }

  #terminate(
    container: StandInContainer,
    exitCode: number,
    reason: string,
    startedAt: string | undefined,
  ): void {
    container.state = {
      terminated: { exitCode, reason, startedAt, finishedAt: now() },
    };
    container.events.emit("end");
  }

  /** Sets the final phase once every container has stopped. */
  #settle(): void {
    this.#hooks.onChange();
    if (
      !this.stopped ||
      this.phase === "Succeeded" ||
      this.phase === "Failed"
    ) {
      return;
    }
    this.phase = this.containers.every((c) => this.#exitedZero(c))
      ? "Succeeded"
      : "Failed";
    this.#hooks.onFinished(this);
  }

  #exitedZero(container: StandInContainer): boolean {
    return (
      "terminated" in container.state &&
      container.state.terminated.exitCode === 0
    );
  }

  #wait(ms: number): Promise<void> {
    const signal = AbortSignal.any([this.#kill.signal, this.#hooks.signal]);
    return sleep(ms, undefined, { signal });
  }
}

function exitReason(code: string): string {
  return Number(code) === 0 ? "Completed" : "Error";
}
