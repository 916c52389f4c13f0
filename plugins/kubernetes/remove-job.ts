import { setTimeout as sleep } from "node:timers/promises";
import type { KubeApi } from "./kube-api.js";

/** Options of {@link removeJob}. */
export interface RemoveJobOptions {
  namespace: string;
  name: string;
  /** Also wait until the Job's pods are gone (after a cancel/timeout). */
  waitForPods: boolean;
  /** Everything must be gone within this long. */
  timeoutMs: number;
  /** Time between two looks. */
  pollIntervalMs: number;
}

/** What was left when {@link removeJob} gave up. */
export class JobNotRemovedError extends Error {
  override readonly name = "JobNotRemovedError";
}

/**
 * Deletes a Job (Background propagation) and waits until it is gone,
 * and, when asked, until its pods are gone too: only then has everything
 * the attempt started stopped. Deleting a Job that is already gone is
 * fine (false is returned then). Uses an API client without the
 * attempt's signal, which is usually aborted by now.
 */
export async function removeJob(
  api: KubeApi,
  options: RemoveJobOptions,
): Promise<boolean> {
  const { namespace, name, timeoutMs, pollIntervalMs } = options;
  const deadline = performance.now() + timeoutMs;
  const deleted = await api.deleteJob(namespace, name);
  const waitFor = async (what: string, gone: () => Promise<boolean>) => {
    while (!(await gone())) {
      if (performance.now() >= deadline) {
        throw new JobNotRemovedError(
          `${what} still there ${timeoutMs} ms after the Job was deleted`,
        );
      }
      await sleep(pollIntervalMs);
    }
  };
  await waitFor(`Job "${name}" is`, async () => {
    return (await api.readJob(namespace, name)) === undefined;
  });
  if (options.waitForPods) {
    await waitFor(`pods of Job "${name}" are`, async () => {
      const pods = await api.listPods(namespace, `job-name=${name}`);
      return pods.length === 0;
    });
  }
  return deleted;
}
