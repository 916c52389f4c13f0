/** Where a Spark application stands, as its cluster manager reports it. */
export interface SparkApplicationStatus {
  /**
   * The state in the cluster manager's words: "RUNNING" or
   * "FINISHED/SUCCEEDED" (YARN state and final status), "FINISHED" or
   * "ERROR" (a standalone or Mesos driver), "Running" or "Succeeded" (a
   * Kubernetes driver pod's phase).
   */
  state: string;
  /** True once the application has ended and will not change again. */
  final: boolean;
  /** For a final state: whether the application succeeded. */
  succeeded: boolean;
}
