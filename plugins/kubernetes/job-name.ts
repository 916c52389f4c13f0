import { createHash } from "node:crypto";
import { MAX_LABEL_CHARS } from "./kube-names.js";

const PREFIX = "deerflow";
const HASH_CHARS = 10;

/**
 * The name of an attempt's Job: `deerflow-<task>-<hash>-<attempt>`, where
 * the task id is lowercased and reduced to DNS-1123 characters and cut so
 * the whole name fits in 63 characters (a Job's name becomes the value of
 * its pods' `job-name` label), and the hash of run id and task id keeps
 * names of different runs, and of task ids that reduce alike, apart.
 * The same attempt always gets the same name, so a second create of it is
 * refused by the API server instead of running the pod twice.
 */
export function jobName(
  runId: string,
  taskId: string,
  attempt: number,
): string {
  const hash = createHash("sha256")
    .update(runId)
    .update("\0")
    .update(taskId)
    .digest("hex")
    .slice(0, HASH_CHARS);
  const suffix = `-${hash}-${attempt}`;
  const room = MAX_LABEL_CHARS - PREFIX.length - 1 - suffix.length;
  const slug = taskId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, Math.max(room, 0))
    .replace(/^-+|-+$/g, "");
  return slug === "" ? `${PREFIX}${suffix}` : `${PREFIX}-${slug}${suffix}`;
}
