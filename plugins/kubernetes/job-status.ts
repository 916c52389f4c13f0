import type { V1ContainerStatus, V1Job, V1Pod } from "@kubernetes/client-node";

/** Where a Job stands, from its conditions. */
export type JobState =
  /** Neither Complete nor Failed yet (pods pending, running, retrying). */
  | { state: "running" }
  /** Condition Complete is True. */
  | { state: "succeeded" }
  /** Condition Failed is True: BackoffLimitExceeded, DeadlineExceeded... */
  | { state: "failed"; reason: string; message: string };

/**
 * The Job's state. Only the final conditions count: newer clusters first
 * set SuccessCriteriaMet or FailureTarget while pods still terminate, and
 * the Job is not done until those pods are.
 */
export function jobState(job: V1Job): JobState {
  for (const condition of job.status?.conditions ?? []) {
    if (condition.status !== "True") continue;
    if (condition.type === "Complete") return { state: "succeeded" };
    if (condition.type === "Failed") {
      return {
        state: "failed",
        reason: condition.reason ?? "Failed",
        message: condition.message ?? "",
      };
    }
  }
  return { state: "running" };
}

/** A container that has stopped. */
export interface ContainerExit {
  container: string;
  exitCode: number;
  /** Completed, Error, OOMKilled, DeadlineExceeded, ... */
  reason: string | undefined;
  message: string | undefined;
}

/** Why a pod will not start without someone changing something. */
export interface PodProblem {
  container: string;
  reason: string;
  message: string;
  /** False when a later attempt cannot fix it (a malformed image name). */
  retryable: boolean;
}

/**
 * Waiting reasons that mean the pod will not start by itself. The kubelet
 * keeps retrying these, so a Job would sit in them until its deadline.
 * ErrImagePull is left out: it turns into ImagePullBackOff after the first
 * failed pull, and a single failure may be a passing registry hiccup.
 */
const STUCK_REASONS: Record<string, { retryable: boolean }> = {
  ImagePullBackOff: { retryable: true },
  ErrImageNeverPull: { retryable: false },
  InvalidImageName: { retryable: false },
  CreateContainerConfigError: { retryable: true },
  CreateContainerError: { retryable: true },
};

/** Pods of a Job, oldest first (retries of a Job make new pods). */
export function byAge(pods: V1Pod[]): V1Pod[] {
  const time = (pod: V1Pod) =>
    new Date(pod.metadata?.creationTimestamp ?? 0).getTime();
  return [...pods].sort(
    (a, b) =>
      time(a) - time(b) ||
      (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""),
  );
}

/** All container statuses of a pod, init containers first. */
export function containerStatuses(pod: V1Pod): V1ContainerStatus[] {
  return [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
}

/** The first container stuck in a {@link STUCK_REASONS} state. */
export function podProblem(pod: V1Pod): PodProblem | undefined {
  for (const status of containerStatuses(pod)) {
    const reason = status.state?.waiting?.reason;
    const known = reason === undefined ? undefined : STUCK_REASONS[reason];
    if (reason !== undefined && known !== undefined) {
      return {
        container: status.name,
        reason,
        message: status.state?.waiting?.message ?? "",
        retryable: known.retryable,
      };
    }
  }
  return undefined;
}

/** Terminated containers of a pod, init containers first. */
export function containerExits(pod: V1Pod): ContainerExit[] {
  const exits: ContainerExit[] = [];
  for (const status of containerStatuses(pod)) {
    const terminated = status.state?.terminated;
    if (terminated === undefined) continue;
    exits.push({
      container: status.name,
      exitCode: terminated.exitCode,
      reason: terminated.reason,
      message: terminated.message,
    });
  }
  return exits;
}

/**
 * The exit that speaks for the pod: the first non-zero one (init
 * containers run first, so theirs came first), else the main container's.
 */
export function decisiveExit(
  pod: V1Pod,
  mainContainer: string,
): ContainerExit | undefined {
  const exits = containerExits(pod);
  return (
    exits.find((exit) => exit.exitCode !== 0) ??
    exits.find((exit) => exit.container === mainContainer)
  );
}

/** Why a pod is Pending and unscheduled, when the scheduler said so. */
export function schedulingProblem(pod: V1Pod): string | undefined {
  const scheduled = pod.status?.conditions?.find(
    (c) => c.type === "PodScheduled",
  );
  if (scheduled?.status !== "False") return undefined;
  return [scheduled.reason, scheduled.message].filter(Boolean).join(": ");
}
