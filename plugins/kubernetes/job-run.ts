import type { V1Pod } from "@kubernetes/client-node";
import type {
  ExecuteResult,
  JsonObject,
  PluginSdk,
  TaskContext,
  TaskError,
} from "../../plugin-sdk/index.js";
import { TaskAbort } from "../../plugin-sdk/index.js";
import { abortError } from "../process/index.js";
import { Alarm } from "./alarm.js";
import { ATTEMPT_LABELS, jobManifest } from "./job-manifest.js";
import type { JobSettings } from "./job-settings.js";
import {
  byAge,
  type ContainerExit,
  decisiveExit,
  type JobState,
  jobState,
  type PodProblem,
  podProblem,
  schedulingProblem,
} from "./job-status.js";
import type { KubeApi } from "./kube-api.js";
import { KubeApiError } from "./kube-api-error.js";
import type { KubernetesConfig } from "./kubernetes-config.js";
import type { ResolvedKubernetesPluginOptions } from "./kubernetes-plugin-options.js";
import { PodLogFollower } from "./pod-log-follower.js";
import { removeJob } from "./remove-job.js";

/** Everything one attempt's Job needs. */
export interface JobRunParts {
  sdk: PluginSdk;
  ctx: TaskContext<KubernetesConfig>;
  settings: JobSettings;
  options: ResolvedKubernetesPluginOptions;
  /** Requests bounded by the attempt's signal. */
  api: KubeApi;
  /** Requests that still work after the attempt's signal aborted. */
  cleanupApi: KubeApi;
  namespace: string;
  name: string;
}

/** How the Job ended, with its pods at that moment, oldest first. */
interface JobEnd {
  state: Exclude<JobState, { state: "running" }>;
  pods: V1Pod[];
}

/**
 * One attempt as a Job: create it, follow its pods' logs, look at it
 * until it is Complete or Failed, then delete it (unless keep_job). On a
 * cancel or timeout, or when its pod cannot start, it is deleted and
 * waited for regardless of keep_job.
 */
export class JobRun {
  readonly #parts: JobRunParts;
  readonly #alarm = new Alarm();
  readonly #followers: PodLogFollower;
  readonly #fields: JsonObject;
  readonly #output: JsonObject;
  readonly #notes = new Set<string>();
  #createdAt = 0;
  #podStarted = false;
  /** False until a create was sent, and after one was refused. */
  #mayExist = false;

  constructor(parts: JobRunParts) {
    this.#parts = parts;
    const { ctx, api, namespace, name } = parts;
    this.#fields = { job: name, namespace };
    this.#output = {
      job_name: name,
      namespace,
      pod_name: null,
      exit_code: null,
      succeeded: false,
    };
    this.#followers = new PodLogFollower({
      api,
      namespace,
      onLine: (line) => ctx.streams.stdout(line),
      onStreamEnd: () => this.#alarm.wake(),
      log: ctx.log,
    });
  }

  async execute(): Promise<ExecuteResult> {
    const { ctx, settings, options } = this.#parts;
    ctx.output(this.#output);
    let end: JobEnd;
    try {
      await this.#create();
      end = await this.#waitForEnd();
    } catch (error) {
      this.#followers.stop();
      if (!this.#mayExist) throw this.#abortedOr(error);
      if (ctx.signal.aborted) throw await this.#removeAfterAbort();
      await this.#remove(false).catch(() => {});
      throw error;
    }
    const drained = await this.#followers.drain(
      options.logDrainTimeoutMs,
      ctx.signal,
    );
    if (!drained) ctx.log.warn("pod logs did not end in time", this.#fields);
    if (!settings.keepJob) await this.#remove(false).catch(() => {});
    return this.#finish(end);
  }

  async #create(): Promise<void> {
    const { ctx, settings, api, namespace, name } = this.#parts;
    const manifest = jobManifest(ctx, settings, name);
    this.#createdAt = performance.now();
    // A create whose answer was lost may still have made the Job.
    this.#mayExist = true;
    try {
      await api.createJob(namespace, manifest);
      ctx.log.info("job created", this.#fields);
      return;
    } catch (error) {
      const status = (error as KubeApiError).statusCode;
      if (status !== 409) {
        if (status !== undefined) this.#mayExist = false;
        throw this.#apiFailure(error);
      }
    }
    // The same attempt ran before (an agent restarted mid-attempt): the
    // name is the attempt's, so follow that Job instead of a second one.
    const existing = await api.readJob(namespace, name).catch((error) => {
      throw this.#apiFailure(error);
    });
    const annotations = existing?.metadata?.annotations ?? {};
    if (
      annotations[ATTEMPT_LABELS.runId] !== ctx.runId ||
      annotations[ATTEMPT_LABELS.taskId] !== ctx.taskId ||
      annotations[ATTEMPT_LABELS.attempt] !== String(ctx.attempt)
    ) {
      throw new this.#parts.sdk.NonRetryableError(
        `Job "${name}" already exists in namespace "${namespace}" and ` +
          "belongs to another attempt",
      );
    }
    ctx.log.warn("job of this attempt already exists; following it", {
      ...this.#fields,
    });
  }

  async #waitForEnd(): Promise<JobEnd> {
    const { ctx, options } = this.#parts;
    let failures = 0;
    for (;;) {
      ctx.signal.throwIfAborted();
      try {
        const { state, pods } = await this.#look();
        if (state.state !== "running") return { state, pods };
        failures = 0;
      } catch (error) {
        if (ctx.signal.aborted || !(error instanceof KubeApiError)) throw error;
        failures += 1;
        if (!error.transient || failures >= options.maxPollFailures) {
          throw this.#apiFailure(error);
        }
        ctx.log.warn("kubernetes api request failed; retrying", {
          ...this.#fields,
          error: error.message,
          failures,
          next_delay_ms: options.pollIntervalMs,
        });
      }
      await this.#alarm.sleep(options.pollIntervalMs, ctx.signal);
    }
  }

  /** One look at the Job and its pods; throws if a pod cannot start. */
  async #look(): Promise<{ state: JobState; pods: V1Pod[] }> {
    const { sdk, api, namespace, name } = this.#parts;
    const job = await api.readJob(namespace, name);
    if (job === undefined) {
      const ttl = this.#parts.settings.ttlSecondsAfterFinished;
      throw new sdk.TaskError(
        `Job "${name}" in namespace "${namespace}" was deleted before its ` +
          "end was seen" +
          (ttl === undefined
            ? ""
            : ` (ttl_seconds_after_finished ${ttl} may be too short to ` +
              "see it finish)"),
      );
    }
    // Read after the Job, so pods are at least as fresh as its status.
    const pods = byAge(await api.listPods(namespace, `job-name=${name}`));
    for (const pod of pods) this.#observe(pod);
    const state = jobState(job);
    const newest = pods.at(-1);
    const problem = newest && podProblem(newest);
    if (state.state === "running" && newest && problem) {
      throw this.#stuck(newest, problem);
    }
    return { state, pods };
  }

  #observe(pod: V1Pod): void {
    const { ctx } = this.#parts;
    const podName = pod.metadata?.name ?? "";
    if (this.#note(`pod ${podName}`)) {
      this.#output.pod_name = podName;
      ctx.output({ pod_name: podName });
      ctx.log.info("pod created", { ...this.#fields, pod: podName });
    }
    const unscheduled = schedulingProblem(pod);
    if (unscheduled && this.#note(`unscheduled ${podName} ${unscheduled}`)) {
      ctx.log.warn("pod is not scheduled yet", {
        ...this.#fields,
        pod: podName,
        reason: unscheduled,
      });
    }
    const phase = pod.status?.phase;
    if (!this.#podStarted && phase !== undefined && phase !== "Pending") {
      this.#podStarted = true;
      const pendingMs = performance.now() - this.#createdAt;
      ctx.metrics.timer("kubernetes_pod_pending_ms", pendingMs);
    }
    this.#followers.observe(pod);
  }

  /** True the first time `key` is seen. */
  #note(key: string): boolean {
    if (this.#notes.has(key)) return false;
    this.#notes.add(key);
    return true;
  }

  #finish(end: JobEnd): ExecuteResult {
    const { sdk, ctx, settings, name } = this.#parts;
    ctx.metrics.timer(
      "kubernetes_job_duration_ms",
      performance.now() - this.#createdAt,
    );
    const main = settings.containerNames[0] ?? "";
    if (end.state.state === "succeeded") {
      const newest = end.pods.at(-1);
      const exit = newest && decisiveExit(newest, main);
      const exitCode = exit?.exitCode ?? 0;
      ctx.output({ exit_code: exitCode, succeeded: true });
      return { exitCode };
    }
    const { reason, message } = end.state;
    const failed = lastFailure(end.pods, main);
    ctx.output({ exit_code: failed?.exit.exitCode ?? null, succeeded: false });
    let text = `Job "${name}" failed (${reason}${message ? `: ${message}` : ""})`;
    if (failed) text += `; ${describeExit(failed.pod, failed.exit)}`;
    throw new sdk.TaskError(text, {
      exitCode: failed?.exit.exitCode,
      retryClass: reason === "DeadlineExceeded" ? "timeout" : "error",
    });
  }

  #stuck(pod: V1Pod, problem: PodProblem): TaskError {
    const { sdk } = this.#parts;
    const text =
      `pod "${pod.metadata?.name}" cannot start: container ` +
      `"${problem.container}" is in ${problem.reason}` +
      (problem.message ? `: ${problem.message}` : "");
    return problem.retryable
      ? new sdk.TaskError(text)
      : new sdk.NonRetryableError(text);
  }

  /** A KubeApiError as the attempt's error: retryable when transient. */
  #apiFailure(error: unknown): Error {
    const { sdk } = this.#parts;
    if (!(error instanceof KubeApiError)) return error as Error;
    if (!error.transient) {
      return new sdk.NonRetryableError(error.message, { cause: error });
    }
    const code = error.statusCode;
    const retryClass =
      code === 429
        ? "429"
        : code !== undefined && code >= 500
          ? "5xx"
          : "error";
    return new sdk.TaskError(error.message, { retryClass, cause: error });
  }

  /** The abort error if the attempt was aborted, else `error`. */
  #abortedOr(error: unknown): unknown {
    const { sdk, ctx, name } = this.#parts;
    return ctx.signal.aborted
      ? abortError(sdk, ctx.signal, `Job "${name}"`)
      : error;
  }

  async #removeAfterAbort(): Promise<TaskError> {
    const { sdk, ctx, name } = this.#parts;
    const stopped = abortError(sdk, ctx.signal, `Job "${name}"`);
    ctx.log.info("attempt aborted; deleting job", {
      ...this.#fields,
      reason: TaskAbort.reasonOf(ctx.signal) ?? "killed",
    });
    try {
      await this.#remove(true);
      return stopped;
    } catch (error) {
      return new sdk.TaskError(
        `${stopped.message}; deleting it failed: ${(error as Error).message}`,
        { retryClass: stopped.retryClass, cause: error },
      );
    }
  }

  /** Deletes the Job and waits; logs and rethrows a failure. */
  async #remove(waitForPods: boolean): Promise<void> {
    const { ctx, cleanupApi, options, namespace, name } = this.#parts;
    try {
      const deleted = await removeJob(cleanupApi, {
        namespace,
        name,
        waitForPods,
        timeoutMs: options.deleteTimeoutMs,
        pollIntervalMs: options.pollIntervalMs,
      });
      ctx.log.info(deleted ? "job deleted" : "job already gone", this.#fields);
    } catch (error) {
      ctx.log.error("job not deleted", {
        ...this.#fields,
        error: (error as Error).message,
      });
      throw error;
    }
  }
}

/** The newest pod's failed container exit, if any pod has one. */
function lastFailure(pods: V1Pod[], main: string) {
  for (const pod of [...pods].reverse()) {
    const exit = decisiveExit(pod, main);
    if (exit !== undefined && exit.exitCode !== 0) return { pod, exit };
  }
  return undefined;
}

function describeExit(pod: V1Pod, exit: ContainerExit): string {
  const reason = exit.reason ? ` (${exit.reason})` : "";
  const message = exit.message ? `: ${exit.message.trim()}` : "";
  return (
    `container "${exit.container}" of pod "${pod.metadata?.name}" exited ` +
    `with code ${exit.exitCode}${reason}${message}`
  );
}
