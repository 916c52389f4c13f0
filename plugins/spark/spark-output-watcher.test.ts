import { describe, expect, it } from "vitest";
import type { ClusterManager } from "./spark-master.js";
import { type SparkIds, SparkOutputWatcher } from "./spark-output-watcher.js";

function watch(manager: ClusterManager, lines: string[]) {
  const seen: SparkIds[] = [];
  const watcher = new SparkOutputWatcher(manager, (ids) => seen.push(ids));
  for (const line of lines) watcher.push(line);
  return { watcher, seen };
}

describe("SparkOutputWatcher", () => {
  it("reports a YARN id once, and the final status below the report", () => {
    const { watcher, seen } = watch("yarn", [
      "INFO Client: Submitting application application_17_0042 to ResourceManager",
      "INFO YarnClientImpl: Submitted application application_17_0042",
      "INFO Client: Application report for application_17_0042 (state: RUNNING)",
      "INFO Client: Application report for application_17_0042 (state: FINISHED)",
    ]);
    expect(seen).toEqual([{ applicationId: "application_17_0042" }]);
    expect(watcher.state).toEqual({
      state: "FINISHED",
      final: false,
      succeeded: false,
    });
    watcher.push("\t final status: SUCCEEDED");
    expect(watcher.state).toEqual({
      state: "FINISHED/SUCCEEDED",
      final: true,
      succeeded: true,
    });
  });

  it("reads a standalone driver id and an app id apart", () => {
    const { watcher } = watch("standalone", [
      "INFO RestSubmissionClient: Submission successfully created as driver-20240101000000-0007.",
      "INFO StandaloneSchedulerBackend: Connected to Spark cluster with app ID app-20240101000001-0003",
    ]);
    expect(watcher.ids).toEqual({
      submissionId: "driver-20240101000000-0007",
      applicationId: "app-20240101000001-0003",
    });
  });

  it("reads both Kubernetes ids and the pod phase", () => {
    const app = `spark-${"ab".repeat(16)}`;
    const { watcher, seen } = watch("kubernetes", [
      "INFO LoggingPodStatusWatcherImpl: State changed, new state: pod name: pi-1-driver namespace: jobs phase: Pending",
      `INFO LoggingPodStatusWatcherImpl: Deployed Spark application pi with application ID ${app} and submission ID jobs:pi-1-driver into Kubernetes`,
      `INFO LoggingPodStatusWatcherImpl: Application status for ${app} (phase: Failed)`,
    ]);
    expect(seen).toEqual([
      { applicationId: app, submissionId: "jobs:pi-1-driver" },
    ]);
    expect(watcher.state).toEqual({
      state: "Failed",
      final: true,
      succeeded: false,
    });
  });

  it("ignores look-alikes of other cluster managers", () => {
    const { seen } = watch("yarn", [
      "host app-20240101000000-0001 and driver-20240101000000-0001",
    ]);
    expect(seen).toEqual([]);
  });
});
