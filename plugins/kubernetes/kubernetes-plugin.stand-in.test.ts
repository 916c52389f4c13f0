import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type JsonObject,
  NonRetryableError,
  pluginSdk,
  TaskAbort,
} from "../../plugin-sdk/index.js";
import { type RunPluginOptions, runPlugin } from "../../plugin-sdk/testing.js";
import type { KubernetesConfig } from "./kubernetes-config.js";
import { createKubernetesPlugin } from "./kubernetes-plugin.js";
import type { KubernetesPluginOptions } from "./kubernetes-plugin-options.js";
import {
  createStandInCertificate,
  KubernetesStandIn,
  type StandInCertificate,
  writeKubeconfig,
  writeServiceAccount,
} from "./testing.js";

const RUN_ID = "0b6f1a52-3c1e-4a8e-9a57-7d0e2f6c9b11";

let dir: string;
let certificate: StandInCertificate;
let standIn: KubernetesStandIn;
let kubeconfig: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deerflow-k8s-test-"));
  certificate = await createStandInCertificate(dir);
  standIn = await KubernetesStandIn.start({
    tls: certificate,
    namespaces: ["default", "team-a", "locked"],
    forbiddenNamespaces: ["locked"],
  });
  kubeconfig = await writeKubeconfig(join(dir, "kubeconfig"), standIn, {
    ca: certificate.cert,
    extraContexts: { "team-a": "team-a" },
  });
});

afterAll(async () => {
  await standIn?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A plugin that reads nothing from the test process's environment. */
function plugin(options: KubernetesPluginOptions = {}) {
  return createKubernetesPlugin({
    env: {},
    serviceAccountDir: join(dir, "no-service-account"),
    pollIntervalMs: 25,
    deleteTimeoutMs: 20_000,
    ...options,
  })(pluginSdk);
}

function pod(args: string[], extra: JsonObject = {}): JsonObject {
  return { containers: [{ name: "main", image: "busybox", args }], ...extra };
}

function run(
  config: Partial<KubernetesConfig>,
  options: Partial<RunPluginOptions<KubernetesConfig>> = {},
  pluginOptions: KubernetesPluginOptions = {},
) {
  return runPlugin(plugin(pluginOptions), {
    runId: RUN_ID,
    config: { kubeconfig, pod_spec: pod([]), ...config } as KubernetesConfig,
    ...options,
  });
}

const stdout = (lines: { stream: string; message: string }[]) =>
  lines.filter((l) => l.stream === "stdout").map((l) => l.message);

/** Runs until the pod logs `line`, then aborts with `reason`. */
async function abortAfterLine(
  config: Partial<KubernetesConfig>,
  line: string,
  reason: "timeout" | "killed",
  taskId: string,
) {
  const controller = new AbortController();
  const result = await run(config, {
    taskId,
    signal: controller.signal,
    onLine: (l) => {
      if (l.stream === "stdout" && l.message === line) {
        controller.abort(new TaskAbort(reason));
      }
    },
  });
  return result;
}

describe("kubernetes plugin against the API server stand-in", () => {
  it("stand-in: runs a Job, streams its pod's log and deletes it", async () => {
    const result = await run({
      pod_spec: pod([
        "echo hello",
        "sleep 50",
        "env DEERFLOW_TASK_ID",
        "echo done",
      ]),
    });
    expect(result.error).toBeUndefined();
    expect(result.outcome).toBe("success");
    expect(stdout(result.lines)).toEqual([
      "hello",
      "DEERFLOW_TASK_ID=task-test",
      "done",
    ]);
    const name = result.output.job_name as string;
    expect(name).toMatch(/^deerflow-task-test-[0-9a-f]{10}-1$/);
    expect(result.output).toEqual({
      job_name: name,
      namespace: "default",
      pod_name: expect.stringMatching(new RegExp(`^${name}-[a-z0-9]{5}$`)),
      exit_code: 0,
      succeeded: true,
    });
    expect(result.exitCode).toBe(0);
    expect(standIn.deletions).toContainEqual({
      namespace: "default",
      name,
      propagationPolicy: "Background",
    });
    expect(
      standIn.jobs().map((j) => (j.metadata as JsonObject).name),
    ).not.toContain(name);
  });

  it("stand-in: keep_job keeps the Job, labelled with the attempt", async () => {
    const result = await run(
      {
        keep_job: true,
        namespace: "team-a",
        labels: { team: "data" },
        service_account: "runner",
        backoff_limit: 0,
        pod_spec: pod(["echo kept"]),
      },
      { taskId: "process[0]", attempt: 2, env: { GREETING: "hi" } },
    );
    expect(result.outcome).toBe("success");
    const name = result.output.job_name as string;
    expect(name).toMatch(/^deerflow-process-0-[0-9a-f]{10}-2$/);
    const job = standIn
      .jobs("team-a")
      .find((j) => (j.metadata as JsonObject).name === name);
    expect(job).toBeDefined();
    const metadata = job?.metadata as JsonObject;
    expect(metadata.labels).toEqual({
      team: "data",
      "deerflow.run_id": RUN_ID,
      "deerflow.task_id": "process_0",
      "deerflow.attempt": "2",
    });
    expect(metadata.annotations).toMatchObject({
      "deerflow.task_id": "process[0]",
    });
    const spec = ((job as JsonObject).spec as JsonObject)
      .template as JsonObject;
    const podSpec = spec.spec as JsonObject;
    expect(podSpec.restartPolicy).toBe("Never");
    expect(podSpec.serviceAccountName).toBe("runner");
    const env = ((podSpec.containers as JsonObject[])[0]?.env ??
      []) as JsonObject[];
    expect(env).toContainEqual({ name: "GREETING", value: "hi" });
    expect(env).toContainEqual({ name: "DEERFLOW_ATTEMPT", value: "2" });
    expect(standIn.deletions.map((d) => d.name)).not.toContain(name);
  });

  it("stand-in: a second run of the same attempt follows its existing Job", async () => {
    const options = { taskId: "again", attempt: 1 };
    const first = await run(
      { keep_job: true, pod_spec: pod(["echo once"]) },
      options,
    );
    expect(first.outcome).toBe("success");
    const creates = standIn.requests.filter((r) => r.method === "POST").length;
    const second = await run({ pod_spec: pod(["echo once"]) }, options);
    expect(second.outcome).toBe("success");
    expect(second.output.job_name).toBe(first.output.job_name);
    expect(stdout(second.lines)).toEqual(["once"]);
    expect(second.lines).toContainEqual(
      expect.objectContaining({
        message: "job of this attempt already exists; following it",
      }),
    );
    const posts = standIn.requests.filter((r) => r.method === "POST");
    expect(posts).toHaveLength(creates + 1);
    expect(posts.at(-1)?.status).toBe(409);
  });

  it("stand-in: a failed container fails the attempt with its exit code", async () => {
    const result = await run(
      { pod_spec: pod(["echo failing", "exit 3"]) },
      { taskId: "fails" },
    );
    expect(result.outcome).toBe("failed");
    expect(result.exitCode).toBe(3);
    expect(result.error?.retryable).toBe(true);
    expect(result.error?.message).toMatch(
      /failed \(BackoffLimitExceeded: Job has reached the specified backoff limit\)/,
    );
    expect(result.error?.message).toMatch(
      /container "main" of pod "deerflow-fails-\w+-1-\w{5}" exited with code 3 \(Error\)/,
    );
    expect(result.output).toMatchObject({ exit_code: 3, succeeded: false });
    expect(stdout(result.lines)).toEqual(["failing"]);
    const name = result.output.job_name as string;
    expect(standIn.deletions.map((d) => d.name)).toContain(name);
  });

  it("stand-in: init containers run first and their logs are prefixed", async () => {
    const withInit = (initArgs: string[]) => ({
      initContainers: [{ name: "setup", image: "busybox", args: initArgs }],
      containers: [{ name: "main", image: "busybox", args: ["echo work"] }],
    });
    const ok = await run(
      { pod_spec: withInit(["echo ready"]) },
      { taskId: "init-ok" },
    );
    expect(ok.outcome).toBe("success");
    expect(stdout(ok.lines)).toEqual(["[setup] ready", "[main] work"]);
    const failed = await run(
      { pod_spec: withInit(["echo broken", "exit 4"]) },
      { taskId: "init-fails" },
    );
    expect(failed.outcome).toBe("failed");
    expect(failed.exitCode).toBe(4);
    expect(failed.error?.message).toMatch(
      /container "setup" of pod "\S+" exited with code 4/,
    );
    expect(stdout(failed.lines)).toEqual(["[setup] broken"]);
  });

  it("stand-in: OOMKilled is named in the error", async () => {
    const result = await run({ pod_spec: pod(["oom"]) }, { taskId: "oom" });
    expect(result.outcome).toBe("failed");
    expect(result.exitCode).toBe(137);
    expect(result.error?.message).toMatch(/exited with code 137 \(OOMKilled\)/);
  });

  it("stand-in: backoff_limit lets the Job retry its pod", async () => {
    const result = await run(
      { backoff_limit: 1, pod_spec: pod(["echo try", "exit 1"]) },
      { taskId: "retries" },
    );
    expect(result.outcome).toBe("failed");
    expect(stdout(result.lines)).toEqual(["try", "try"]);
    const created = result.lines.filter((l) => l.message === "pod created");
    expect(created).toHaveLength(2);
  });

  it("stand-in: an image that cannot be pulled fails and deletes the Job", async () => {
    const result = await run(
      {
        keep_job: true,
        pod_spec: {
          containers: [{ name: "main", image: "missing/nothing:1" }],
        },
      },
      { taskId: "no-image" },
    );
    expect(result.outcome).toBe("failed");
    expect(result.error?.message).toMatch(
      /cannot start: container "main" is in ImagePullBackOff: Back-off pulling image "missing\/nothing:1"/,
    );
    expect(result.output.exit_code).toBeNull();
    const name = result.output.job_name as string;
    expect(standIn.deletions.map((d) => d.name)).toContain(name);
    expect(
      standIn.jobs().map((j) => (j.metadata as JsonObject).name),
    ).not.toContain(name);
  });

  it("stand-in: active_deadline_seconds ends a hanging Job as DeadlineExceeded", async () => {
    const result = await run(
      { active_deadline_seconds: 1, pod_spec: pod(["echo waiting", "hang"]) },
      { taskId: "deadline" },
    );
    expect(result.outcome).toBe("failed");
    expect(result.error?.retryClass).toBe("timeout");
    expect(result.error?.message).toMatch(
      /DeadlineExceeded: Job was active longer than specified deadline/,
    );
  });

  for (const reason of ["timeout", "killed"] as const) {
    it(`stand-in: a ${reason} deletes the Job and waits until it and its pod are gone`, async () => {
      const taskId = `abort-${reason}`;
      const result = await abortAfterLine(
        { pod_spec: pod(["echo started", "hang"]) },
        "started",
        reason,
        taskId,
      );
      expect(result.outcome).toBe(
        reason === "timeout" ? "timed_out" : "killed",
      );
      expect(result.error?.retryClass).toBe(
        reason === "timeout" ? "timeout" : "error",
      );
      const name = result.output.job_name as string;
      expect(name).toContain(taskId);
      expect(standIn.deletions).toContainEqual({
        namespace: "default",
        name,
        propagationPolicy: "Background",
      });
      expect(
        standIn.jobs().map((j) => (j.metadata as JsonObject).name),
      ).not.toContain(name);
      expect(
        standIn
          .pods()
          .map((p) => p.name)
          .filter((n) => n.startsWith(name)),
      ).toEqual([]);
    });
  }

  it("stand-in: bad config names the field and sends no request", async () => {
    const before = standIn.requests.length;
    const cases: [Partial<KubernetesConfig> & JsonObject, RegExp][] = [
      { pod_spec: undefined } as never,
      { namespace: "Bad_NS" },
      {
        pod_spec: { containers: [{ name: "main", image: "x", comand: ["x"] }] },
      },
      { pod_spec: { containers: [] } },
      { pod_spec: pod([], { restartPolicy: "Always" }) },
      { labels: { "deerflow.run_id": "x" } },
      { backoff_limit: -1 },
      { context: "nowhere" },
      { kubeconfig: join(dir, "absent") },
      { kubeconfig: "relative/path" },
      { colour: "blue" } as never,
    ].map((config, index) => [
      config as never,
      [
        /^config\.pod_spec: is required$/,
        /^config\.namespace: "Bad_NS" is not a DNS-1123 label/,
        /^config\.pod_spec\.containers\[0\]\.comand: unknown field \(did you mean "command"\?\)$/,
        /^config\.pod_spec\.containers: must be a non-empty array/,
        /^config\.pod_spec\.restartPolicy: /,
        /^config\.labels\.deerflow\.run_id: /,
        /^config\.backoff_limit: must be an integer >= 0$/,
        /^config\.context: "nowhere" is not a context of .* \(it has: stand-in, team-a\)$/,
        /^config\.kubeconfig: .*absent does not exist/,
        /^config\.kubeconfig: "relative\/path" must be an absolute path/,
        /^config\.colour: unknown field/,
      ][index] as RegExp,
    ]);
    for (const [config, message] of cases) {
      const result = await run(config);
      expect(result.outcome, JSON.stringify(config)).toBe("failed");
      expect(result.error).toBeInstanceOf(NonRetryableError);
      expect(result.error?.message).toMatch(message);
    }
    expect(standIn.requests.length).toBe(before);
  });

  it("stand-in: no kubeconfig anywhere is a clear error", async () => {
    const result = await run({ kubeconfig: undefined });
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toMatch(
      /^config\.kubeconfig: not set, the agent is not in a cluster/,
    );
  });

  it("stand-in: a missing namespace is a clear, final error", async () => {
    const before = standIn.requests.length;
    const result = await run({ namespace: "nope" });
    // The create was refused, so there is nothing to delete.
    const sent = standIn.requests.slice(before).map((r) => r.method);
    expect(sent).toEqual(["POST"]);
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toMatch(
      /^create Job "deerflow-task-test-\w+-1" in namespace "nope": 404 NotFound: namespaces "nope" not found$/,
    );
  });

  it("stand-in: a forbidden namespace (403) is a clear, final error", async () => {
    const result = await run({ namespace: "locked" });
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toMatch(
      /: 403 Forbidden: jobs\.batch is forbidden: User "system:serviceaccount:deerflow:agent" cannot create resource "jobs" in API group "batch" in the namespace "locked"$/,
    );
  });

  it("stand-in: a wrong token (401) is a clear, final error", async () => {
    const wrong = await writeKubeconfig(join(dir, "wrong-token"), standIn, {
      ca: certificate.cert,
      token: "not-the-token",
    });
    const result = await run({ kubeconfig: wrong });
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toMatch(/: 401 Unauthorized/);
  });

  it("stand-in: a 500 on create is retryable as 5xx", async () => {
    standIn.failRequests({ status: 500, method: "POST" });
    const result = await run({}, { taskId: "server-error" });
    expect(result.outcome).toBe("failed");
    expect(result.error?.retryable).toBe(true);
    expect(result.error?.retryClass).toBe("5xx");
    expect(result.error?.message).toMatch(
      /500 InternalError: injected failure 500/,
    );
  });

  it("stand-in: passing API failures while waiting are retried", async () => {
    standIn.failRequests({
      status: 503,
      method: "GET",
      path: /\/jobs\/deerflow-blip-/,
      times: 2,
    });
    const result = await run(
      { pod_spec: pod(["sleep 100", "echo fine"]) },
      { taskId: "blip" },
    );
    expect(result.error).toBeUndefined();
    expect(result.outcome).toBe("success");
    const retries = result.lines.filter(
      (l) => l.message === "kubernetes api request failed; retrying",
    );
    expect(retries.length).toBeGreaterThanOrEqual(1);
  });

  it("stand-in: a request with no answer times out and is retried", async () => {
    standIn.failRequests({
      status: 0,
      method: "GET",
      path: /\/jobs\/deerflow-no-answer-/,
    });
    const result = await run(
      { pod_spec: pod(["echo answered"]) },
      { taskId: "no-answer" },
      { requestTimeoutMs: 300 },
    );
    expect(result.error).toBeUndefined();
    expect(stdout(result.lines)).toEqual(["answered"]);
    const retry = result.lines.find(
      (l) => l.message === "kubernetes api request failed; retrying",
    );
    expect(retry?.fields?.error).toMatch(/: the request timed out$/);
  });

  it("stand-in: the default kubeconfig comes from $KUBECONFIG, with its context's namespace", async () => {
    const result = await run(
      { kubeconfig: undefined, context: "team-a" },
      { taskId: "from-env" },
      { env: { KUBECONFIG: `${join(dir, "absent")}:${kubeconfig}` } },
    );
    expect(result.error).toBeUndefined();
    expect(result.output.namespace).toBe("team-a");
  });

  it("stand-in: in-cluster credentials (service account token over TLS)", async () => {
    const accountDir = join(dir, "serviceaccount");
    const env = await writeServiceAccount(accountDir, standIn, {
      ca: certificate.cert,
      namespace: "team-a",
    });
    const result = await run(
      { kubeconfig: undefined, pod_spec: pod(["echo in-cluster"]) },
      { taskId: "in-cluster" },
      { env, serviceAccountDir: accountDir },
    );
    expect(result.error).toBeUndefined();
    expect(result.output.namespace).toBe("team-a");
    expect(stdout(result.lines)).toEqual(["in-cluster"]);
  });

  it("stand-in: probe names the current context without contacting it", async () => {
    const before = standIn.requests.length;
    const labels = await plugin({ env: { KUBECONFIG: kubeconfig } }).probe?.();
    expect(labels).toEqual({ kubernetes_context: "stand-in" });
    expect(await plugin({ env: {} }).probe?.()).toEqual({});
    expect(standIn.requests.length).toBe(before);
  });
});
