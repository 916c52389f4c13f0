import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { StandInPod } from "./stand-in-pod.js";
import { type LabelSelector, selects } from "./stand-in-selector.js";

type Json = Record<string, unknown>;

/** A Job the stand-in holds. */
interface JobRecord {
  object: Json;
  status: Json;
  podNames: string[];
  /** Set by a Foreground delete while its pods go. */
  deletionTimestamp: string | undefined;
  finished: boolean;
}

/** How a delete treats the Job's pods (DeleteOptions.propagationPolicy). */
export type PropagationPolicy = "Orphan" | "Background" | "Foreground";

/** Options of {@link StandInCluster}. */
export interface StandInClusterOptions {
  namespaces: string[];
  stepMs: number;
  isImageMissing(image: string): boolean;
}

const POD_SUFFIX = "bcdfghjklmnpqrstvwxz2456789";
const now = () => new Date().toISOString();
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The objects of the stand-in and a Job controller: a new Job gets a pod
 * (another after each failure, up to backoffLimit), its status and
 * conditions follow its pods (SuccessCriteriaMet then Complete, or
 * FailureTarget then Failed with BackoffLimitExceeded or
 * DeadlineExceeded), and deletes follow the propagation policy: Orphan
 * (batch/v1's default) leaves the pods running, Background deletes them
 * after the Job, Foreground before it. Deleted pods get SIGTERM (exit 143)
 * and vanish a step later. ttlSecondsAfterFinished deletes finished Jobs.
 */
export class StandInCluster {
  readonly #options: StandInClusterOptions;
  readonly #jobs = new Map<string, JobRecord>();
  readonly #pods = new Map<string, StandInPod>();
  readonly #closing = new AbortController();
  #resourceVersion = 1;

  constructor(options: StandInClusterOptions) {
    this.#options = options;
  }

  hasNamespace(namespace: string): boolean {
    return this.#options.namespaces.includes(namespace);
  }

  /** Stores a validated Job and starts its first pod; false if it exists. */
  createJob(namespace: string, body: Json): Json | undefined {
    const metadata = body.metadata as Json;
    const name = String(metadata.name);
    if (this.#jobs.has(key(namespace, name))) return undefined;
    const uid = randomUUID();
    const spec = body.spec as Json;
    const template = spec.template as Json;
    const templateMetadata = (template.metadata as Json | undefined) ?? {};
    const selectorLabels = {
      "batch.kubernetes.io/controller-uid": uid,
      "batch.kubernetes.io/job-name": name,
      "controller-uid": uid,
      "job-name": name,
    };
    const record: JobRecord = {
      object: {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: {
          ...metadata,
          namespace,
          uid,
          generation: 1,
          creationTimestamp: now(),
        },
        spec: {
          parallelism: 1,
          completions: 1,
          backoffLimit: 6,
          ...spec,
          selector: {
            matchLabels: { "batch.kubernetes.io/controller-uid": uid },
          },
          template: {
            ...template,
            metadata: {
              ...templateMetadata,
              labels: {
                ...((templateMetadata.labels as Json | undefined) ?? {}),
                ...selectorLabels,
              },
            },
          },
        },
      },
      status: {},
      podNames: [],
      deletionTimestamp: undefined,
      finished: false,
    };
    this.#jobs.set(key(namespace, name), record);
    this.#touch();
    this.#later(this.#options.stepMs, () => this.#startPod(record));
    const deadline = spec.activeDeadlineSeconds;
    if (typeof deadline === "number") {
      this.#later(deadline * 1000, () => this.#deadline(record));
    }
    return this.#jobJson(record);
  }

  getJob(namespace: string, name: string): Json | undefined {
    const record = this.#jobs.get(key(namespace, name));
    return record && this.#jobJson(record);
  }

  listJobs(namespace: string | undefined, selector: LabelSelector): Json[] {
    return [...this.#jobs.values()]
      .filter(
        (r) => namespace === undefined || namespaceOf(r.object) === namespace,
      )
      .filter((r) => selects(selector, labelsOf(r.object)))
      .map((r) => this.#jobJson(r));
  }

  /** Deletes a Job; false when there is no such Job. */
  deleteJob(
    namespace: string,
    name: string,
    policy: PropagationPolicy,
  ): boolean {
    const record = this.#jobs.get(key(namespace, name));
    if (record === undefined) return false;
    const pods = this.#podsOf(record);
    if (policy === "Orphan") {
      for (const pod of pods) {
        delete (pod.object.metadata as Json).ownerReferences;
      }
      this.#jobs.delete(key(namespace, name));
    } else if (policy === "Background") {
      this.#jobs.delete(key(namespace, name));
      this.#later(this.#options.stepMs, () => this.#deletePods(pods));
    } else {
      record.deletionTimestamp = now();
      this.#deletePods(pods);
      this.#later(this.#options.stepMs * 2, () => {
        this.#jobs.delete(key(namespace, name));
        this.#touch();
      });
    }
    this.#touch();
    return true;
  }

  listPods(namespace: string | undefined, selector: LabelSelector): Json[] {
    return this.pods(namespace)
      .filter((pod) => selects(selector, labelsOf(pod.object)))
      .map((pod) => pod.toJson());
  }

  /** Every pod, or those of one namespace. */
  pods(namespace?: string): StandInPod[] {
    return [...this.#pods.values()].filter(
      (pod) => namespace === undefined || namespaceOf(pod.object) === namespace,
    );
  }

  getPod(namespace: string, name: string): StandInPod | undefined {
    return this.#pods.get(key(namespace, name));
  }

  /** Kills every pod and stops every timer. */
  close(): void {
    for (const pod of this.#pods.values()) pod.kill();
    this.#closing.abort();
  }

  #startPod(record: JobRecord): void {
    if (record.finished || !this.#isLive(record)) return;
    const job = record.object;
    const jobMetadata = job.metadata as Json;
    const namespace = namespaceOf(job);
    const template = (job.spec as Json).template as Json;
    const suffix = Array.from(
      { length: 5 },
      () => POD_SUFFIX[Math.floor(Math.random() * POD_SUFFIX.length)],
    ).join("");
    const name = `${String(jobMetadata.name)}-${suffix}`;
    const pod = new StandInPod(
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          ...(template.metadata as Json),
          name,
          namespace,
          uid: randomUUID(),
          creationTimestamp: now(),
          ownerReferences: [
            {
              apiVersion: "batch/v1",
              kind: "Job",
              name: jobMetadata.name,
              uid: jobMetadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: structuredClone(template.spec),
      },
      {
        stepMs: this.#options.stepMs,
        signal: this.#closing.signal,
        isImageMissing: this.#options.isImageMissing,
        onChange: () => this.#touch(),
        onFinished: (finished) => this.#podFinished(record, finished),
      },
    );
    this.#pods.set(key(namespace, name), pod);
    record.podNames.push(name);
    record.status.active = 1;
    record.status.startTime ??= now();
    this.#touch();
    pod.start();
  }

  #podFinished(record: JobRecord, pod: StandInPod): void {
    if (record.finished || pod.deletionTimestamp || !this.#isLive(record)) {
      return;
    }
    const status = record.status;
    status.active = 0;
    if (pod.phase === "Succeeded") {
      status.succeeded = 1;
      this.#finish(record, "SuccessCriteriaMet", "Complete", {
        reason: "CompletionsReached",
        message: "Reached expected number of succeeded pods",
      });
      return;
    }
    status.failed = Number(status.failed ?? 0) + 1;
    const limit = Number((record.object.spec as Json).backoffLimit);
    if (Number(status.failed) > limit) {
      this.#finish(record, "FailureTarget", "Failed", {
        reason: "BackoffLimitExceeded",
        message: "Job has reached the specified backoff limit",
      });
    } else {
      this.#later(this.#options.stepMs, () => this.#startPod(record));
    }
    this.#touch();
  }

  #deadline(record: JobRecord): void {
    if (record.finished || !this.#isLive(record)) return;
    this.#finish(record, "FailureTarget", "Failed", {
      reason: "DeadlineExceeded",
      message: "Job was active longer than specified deadline",
    });
    this.#deletePods(this.#podsOf(record));
  }

  /**
   * Sets the interim condition now and the final one a step later, as a
   * real controller does while the last pods finish terminating.
   */
  #finish(
    record: JobRecord,
    interim: string,
    final: string,
    why: { reason: string; message: string },
  ): void {
    record.finished = true;
    const condition = (type: string) => ({
      type,
      status: "True",
      lastProbeTime: now(),
      lastTransitionTime: now(),
      ...why,
    });
    record.status.conditions = [condition(interim)];
    this.#touch();
    this.#later(this.#options.stepMs, () => {
      record.status.conditions = [condition(interim), condition(final)];
      if (final === "Complete") record.status.completionTime = now();
      this.#touch();
      const ttl = (record.object.spec as Json).ttlSecondsAfterFinished;
      if (typeof ttl === "number") {
        this.#later(ttl * 1000, () => {
          const metadata = record.object.metadata as Json;
          this.deleteJob(
            namespaceOf(record.object),
            String(metadata.name),
            "Background",
          );
        });
      }
    });
  }

  #deletePods(pods: StandInPod[]): void {
    for (const pod of pods) {
      if (pod.deletionTimestamp) continue;
      pod.deletionTimestamp = now();
      pod.kill();
      this.#later(this.#options.stepMs, () => {
        this.#pods.delete(key(namespaceOf(pod.object), pod.name));
        for (const c of pod.containers) c.events.emit("end");
        this.#touch();
      });
    }
    this.#touch();
  }

  #podsOf(record: JobRecord): StandInPod[] {
    const namespace = namespaceOf(record.object);
    return record.podNames
      .map((name) => this.#pods.get(key(namespace, name)))
      .filter((pod): pod is StandInPod => pod !== undefined);
  }

  #isLive(record: JobRecord): boolean {
    const metadata = record.object.metadata as Json;
    const stored = this.#jobs.get(
      key(namespaceOf(record.object), String(metadata.name)),
    );
    return stored === record && record.deletionTimestamp === undefined;
  }

  #jobJson(record: JobRecord): Json {
    const metadata = {
      ...(record.object.metadata as Json),
      resourceVersion: String(this.#resourceVersion),
      ...(record.deletionTimestamp
        ? {
            deletionTimestamp: record.deletionTimestamp,
            finalizers: ["foregroundDeletion"],
          }
        : {}),
    };
    return {
      ...record.object,
      metadata,
      status: structuredClone(record.status),
    };
  }

  #touch(): void {
    this.#resourceVersion += 1;
  }

  #later(ms: number, run: () => void): void {
    // Longer than a timer can wait is "never" for a test's stand-in.
    if (ms > MAX_TIMER_MS) return;
    sleep(ms, undefined, { signal: this.#closing.signal }).then(run, () => {});
  }
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function namespaceOf(object: Json): string {
  return String((object.metadata as Json).namespace);
}

function labelsOf(object: Json): Record<string, string> | undefined {
  return (object.metadata as Json).labels as Record<string, string> | undefined;
}
