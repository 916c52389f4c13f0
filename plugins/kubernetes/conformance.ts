/**
 * The kubernetes plugin's cases for the shared conformance suite, run
 * against the API server stand-in (no cluster runs here). The stand-in
 * and its kubeconfig are made per suite run and removed by `dispose`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConformanceCases } from "../../plugin-sdk/conformance.js";
import type { JsonObject } from "../../plugin-sdk/index.js";
import { KubernetesStandIn, writeKubeconfig } from "./testing.js";

/**
 * Starts a stand-in on 127.0.0.1 and writes a kubeconfig for it. The long
 * run logs "started" and hangs; `stopped` checks that its Job and pod are
 * gone from the stand-in.
 */
export async function kubernetesConformance(): Promise<{
  cases: ConformanceCases;
  dispose(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), "deerflow-k8s-conf-"));
  const standIn = await KubernetesStandIn.start();
  const kubeconfig = await writeKubeconfig(join(dir, "kubeconfig"), standIn);
  const job = (args: string[]): JsonObject => ({
    kubeconfig,
    pod_spec: { containers: [{ name: "main", image: "busybox", args }] },
  });
  const cases: ConformanceCases = {
    success: {
      config: job(["echo hello from the stand-in"]),
      taskId: "conformance-success",
      check(run) {
        const { succeeded, exit_code } = run.output;
        if (succeeded !== true || exit_code !== 0) {
          throw new Error(`output ${JSON.stringify(run.output)}`);
        }
        if (!run.lines.some((l) => l.message === "hello from the stand-in")) {
          throw new Error("the pod's log did not reach the task's log");
        }
      },
    },
    failure: { config: job(["exit 3"]), taskId: "conformance-failure" },
    longRunning: {
      config: job(["echo started", "hang"]),
      taskId: "conformance-long",
      started: (line) => line.stream === "stdout" && line.message === "started",
      async stopped(run) {
        const name = String(run.output.job_name);
        const jobs = standIn.jobs().filter((j) => nameOf(j) === name);
        const pods = standIn
          .pods()
          .filter((p) => p.name.startsWith(`${name}-`));
        return jobs.length === 0 && pods.length === 0;
      },
    },
    invalidConfigs: [
      { config: { kubeconfig }, field: "config.pod_spec" },
      {
        config: { ...job([]), namespace: "Not_A_Name" },
        field: "config.namespace",
      },
      {
        config: { ...job([]), pod_spec: { containers: [] } },
        field: "config.pod_spec.containers",
      },
      {
        config: { ...job([]), pod_spec: { containers: [{ name: "main" }] } },
        field: "config.pod_spec.containers[0]",
      },
      {
        config: { ...job([]), backoff_limit: -1 },
        field: "config.backoff_limit",
      },
      { config: { ...job([]), keep_job: "yes" }, field: "config.keep_job" },
      { config: { ...job([]), labels: { team: 7 } }, field: "config.labels" },
      { config: { ...job([]), image: "busybox" }, field: "config" },
    ],
  };
  return {
    cases,
    async dispose() {
      await standIn.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function nameOf(object: Record<string, unknown>): unknown {
  return (object.metadata as Record<string, unknown> | undefined)?.name;
}
