/**
 * The cluster managers spark-submit talks to, by master URL:
 * - `yarn`: Hadoop YARN (`yarn`);
 * - `standalone`: Spark's own cluster manager (`spark://host:port`);
 * - `mesos`: Apache Mesos (`mesos://host:port`);
 * - `kubernetes`: Kubernetes (`k8s://https://host:port`);
 * - `local`: no cluster, the driver runs everything (`local`, `local[4]`).
 */
export type ClusterManager =
  | "yarn"
  | "standalone"
  | "mesos"
  | "kubernetes"
  | "local";

/** The cluster manager of a master URL, or undefined for an unknown one. */
export function clusterManagerOf(master: string): ClusterManager | undefined {
  const value = master.trim();
  if (value === "yarn") return "yarn";
  if (value.startsWith("spark://")) return "standalone";
  if (value.startsWith("mesos://")) return "mesos";
  if (value.startsWith("k8s://")) return "kubernetes";
  if (/^local(\[(\*|\d+)(,\d+)?\])?$/.test(value)) return "local";
  return undefined;
}
