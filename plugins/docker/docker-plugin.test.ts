/**
 * The docker plugin against a real Docker engine: a private dockerd that
 * test/support/docker-engine.ts installs (when missing) and starts. No
 * registry is reachable, so pulls go to a stand-in registry on loopback.
 * If the engine cannot be had, these tests fail; they never skip.
 */
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  NonRetryableError,
  PluginUnavailableError,
  pluginSdk,
  TaskError,
} from "../../plugin-sdk/index.js";
import {
  type CollectedLine,
  type RunPluginOptions,
  runPlugin,
} from "../../plugin-sdk/testing.js";
import {
  type DockerEngine,
  startDockerEngine,
} from "../../test/support/docker-engine.js";
import { validateDefinition } from "../../workflow/index.js";
import { type DockerConfig, dockerConfigSchema } from "./docker-config.js";
import { createDockerPlugin } from "./docker-plugin.js";
import {
  type RegistryStandIn,
  startRegistryStandIn,
} from "./registry-stand-in.js";

/** A fresh engine may first need apt-get to install docker.io. */
const ENGINE_START_TIMEOUT_MS = 15 * 60_000;

let engine: DockerEngine;
let registry: RegistryStandIn;
/** Run ids used by the test in progress; checked for leftovers after. */
const runIds: string[] = [];

beforeAll(async () => {
  engine = await startDockerEngine();
  registry = await startRegistryStandIn({
    rootfsTar: engine.rootfsTar,
    repository: "deerflow/busybox",
    tag: "1",
  });
}, ENGINE_START_TIMEOUT_MS);

afterAll(async () => {
  await registry?.close();
  await engine?.stop();
}, 120_000);

afterEach(async () => {
  // Every container a test made is gone, whatever the test asserted.
  for (const runId of runIds.splice(0)) {
    const left = await containersOf(runId);
    for (const info of left) {
      await engine.docker.getContainer(info.Id).remove({ force: true });
    }
    expect(
      left.map((info) => info.Id),
      `containers of ${runId}`,
    ).toEqual([]);
  }
});

/** The plugin with a short grace, so stop tests end fast. */
const docker = createDockerPlugin({ killGraceMs: 500 })(pluginSdk);

function newRunId(): string {
  const runId = `run-${randomUUID()}`;
  runIds.push(runId);
  return runId;
}

/** Runs the plugin on the test engine under a fresh run id. */
function run(
  config: Omit<DockerConfig, "image"> & { image?: string },
  options: Omit<RunPluginOptions<DockerConfig>, "config"> = {},
  plugin = docker,
) {
  return runPlugin(plugin, {
    runId: newRunId(),
    ...options,
    config: {
      image: engine.image,
      docker_host: engine.dockerHost,
      ...config,
    },
  });
}

function containersOf(runId: string) {
  return engine.docker.listContainers({
    all: true,
    filters: { label: [`deerflow.run_id=${runId}`] },
  });
}

function lines(collected: CollectedLine[], stream: "stdout" | "stderr") {
  return collected.filter((l) => l.stream === stream).map((l) => l.message);
}

/** An onLine hook that aborts `controller` once `text` is printed. */
function abortOn(text: string, controller: AbortController) {
  return (line: CollectedLine) => {
    if (line.stream === "stdout" && line.message === text) controller.abort();
  };
}

describe("docker plugin on a real engine", () => {
  it("runs a container and streams stdout and stderr apart", async () => {
    const result = await run({
      command:
        "for i in 1 2 3; do echo out $i; echo err $i >&2; done; printf tail",
    });
    expect(result.outcome).toBe("success");
    expect(result.exitCode).toBe(0);
    expect(lines(result.lines, "stdout")).toEqual([
      "out 1",
      "out 2",
      "out 3",
      "tail",
    ]);
    expect(lines(result.lines, "stderr")).toEqual(["err 1", "err 2", "err 3"]);
    expect(result.output).toMatchObject({
      exit_code: 0,
      oom_killed: false,
      stdout: "out 1\nout 2\nout 3\ntail",
      stderr: "err 1\nerr 2\nerr 3",
    });
    expect(result.output.container_id).toMatch(/^[0-9a-f]{64}$/);
  });

  it("records a non-zero exit as a failure with its code", async () => {
    const result = await run({ command: ["sh", "-c", "echo partial; exit 3"] });
    expect(result.outcome).toBe("failed");
    expect(result.lines).toContainEqual(
      expect.objectContaining({
        message: "container exited",
        fields: expect.objectContaining({ exit_code: 3, oom_killed: false }),
      }),
    );
    expect(result.exitCode).toBe(3);
    expect(result.error).toBeInstanceOf(TaskError);
    expect(result.error?.retryable).toBe(true);
    expect(result.error?.message).toBe("container exited with code 3");
    expect(result.output).toMatchObject({ exit_code: 3, stdout: "partial" });
  });

  it("hands env and volumes to the container", async () => {
    const hostIn = await mkdtemp(join(engine.scratchDir, "in-"));
    const hostOut = await mkdtemp(join(engine.scratchDir, "out-"));
    await writeFile(join(hostIn, "in.txt"), "from the host\n");
    const result = await run(
      {
        command: [
          "sh",
          "-c",
          'echo "$A $B $C $D $DEERFLOW_TASK_ID"; cat /in/in.txt; ' +
            "cat /rel/note.txt; " +
            "(echo x > /in/new) 2>/dev/null || echo read-only; " +
            "echo written > /out/result.txt",
        ],
        environment: { B: "environment", C: "environment" },
        env: { C: "env", D: "env" },
        volumes: [
          `${hostIn}:/in:ro`,
          { source: hostOut, target: "/out" },
          "./rel:/rel",
        ],
      },
      {
        env: { A: "task", B: "task" },
        taskId: "copy",
        async setup(workDir) {
          await mkdir(join(workDir, "rel"));
          await writeFile(join(workDir, "rel", "note.txt"), "from work dir\n");
        },
      },
    );
    expect(result.error).toBeUndefined();
    expect(lines(result.lines, "stdout")).toEqual([
      "task environment env env copy",
      "from the host",
      "from work dir",
      "read-only",
    ]);
    expect(await readFile(join(hostOut, "result.txt"), "utf8")).toBe(
      "written\n",
    );
  });

  it("sets the memory limit and the kernel enforces it", async () => {
    const small = await run(
      {
        // 4 MiB fits under 32 MiB; the container is kept to inspect it.
        command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=4M", "count=1"],
        resources: { memory: "32Mi", cpu: "500m" },
        remove: false,
      },
      {},
    );
    expect(small.outcome).toBe("success");
    const id = String(small.output.container_id);
    const info = await engine.docker.getContainer(id).inspect();
    expect(info.HostConfig.Memory).toBe(32 * 2 ** 20);
    expect(info.HostConfig.MemorySwap).toBe(32 * 2 ** 20);
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    await engine.docker.getContainer(id).remove();

    // dd fills a 128 MiB buffer: past the limit, the kernel kills it.
    const big = await run({
      command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1"],
      resources: { memory: "32Mi" },
    });
    expect(big.outcome).toBe("failed");
    expect(big.exitCode).toBe(137);
    expect(big.output).toMatchObject({ exit_code: 137, oom_killed: true });
    expect(big.error?.message).toMatch(/exceeding its memory limit/);
  });

  it("limits the container to the attempt's allocated resources", async () => {
    const result = await run(
      { command: ["true"], remove: false },
      {
        resources: {
          cpuMillis: 250,
          memoryBytes: 48 * 2 ** 20,
          gpuIndexes: [],
        },
      },
    );
    const container = engine.docker.getContainer(
      String(result.output.container_id),
    );
    const info = await container.inspect();
    expect(info.HostConfig.NanoCpus).toBe(250_000_000);
    expect(info.HostConfig.Memory).toBe(48 * 2 ** 20);
    await container.remove();
  });

  it("labels the container and keeps it when remove is false", async () => {
    const result = await run(
      { command: ["true"], remove: false },
      { taskId: "keep", attempt: 3 },
    );
    expect(result.outcome).toBe("success");
    const container = engine.docker.getContainer(
      String(result.output.container_id),
    );
    const info = await container.inspect();
    expect(info.Config.Labels).toMatchObject({
      "deerflow.task_id": "keep",
      "deerflow.attempt": "3",
    });
    expect(info.Config.Labels["deerflow.run_id"]).toMatch(/^run-/);
    expect(info.Config.Tty).toBe(false);
    await container.remove();
    const quiet = await run({ command: ["echo", "hi"], capture_output: false });
    expect(quiet.output.stdout).toBeUndefined();
    expect(lines(quiet.lines, "stdout")).toEqual(["hi"]);
  });

  it("applies user, working_dir and entrypoint", async () => {
    const result = await run({
      entrypoint: ["/bin/sh", "-c"],
      command: ['echo "$(id -u):$(id -g) $(pwd)"'],
      user: "1000:1001",
      working_dir: "/tmp",
      network: "none",
    });
    expect(result.error).toBeUndefined();
    expect(lines(result.lines, "stdout")).toEqual(["1000:1001 /tmp"]);
  });

  it("stops the container on cancel, SIGKILL after the grace", async () => {
    const controller = new AbortController();
    // sh as PID 1 ignores SIGTERM: only the SIGKILL after the grace ends it.
    const options = {
      signal: controller.signal,
      onLine: abortOn("ready", controller),
    };
    const result = await run({ command: "echo ready; sleep 1000" }, options);
    expect(result.outcome).toBe("killed");
    expect(result.error?.message).toBe("container was stopped (killed)");
    expect(result.output).toMatchObject({ exit_code: 137, stdout: "ready" });
    expect(await containersOf(runIds[0] ?? "")).toEqual([]);
  });

  it("sends SIGTERM first on cancel, so a container can end cleanly", async () => {
    // A long grace: the container must end on SIGTERM, not on the SIGKILL.
    const patient = createDockerPlugin({ killGraceMs: 120_000 })(pluginSdk);
    const controller = new AbortController();
    const result = await run(
      {
        command:
          "trap 'echo got TERM; exit 5' TERM; echo ready; " +
          "while :; do sleep 0.1; done",
      },
      { signal: controller.signal, onLine: abortOn("ready", controller) },
      patient,
    );
    expect(result.outcome).toBe("killed");
    expect(lines(result.lines, "stdout")).toEqual(["ready", "got TERM"]);
    expect(result.output.exit_code).toBe(5);
  });

  it("stops the container on timeout and leaves none behind", async () => {
    const result = await run(
      { command: ["sleep", "1000"] },
      // Long enough for the container to start on a loaded machine.
      { timeoutMs: 5_000 },
    );
    expect(result.outcome).toBe("timed_out");
    expect(result.error?.retryClass).toBe("timeout");
    expect(result.output.exit_code).toBe(137);
    expect(await containersOf(runIds[0] ?? "")).toEqual([]);
  });

  it("fails without retries when the command does not exist", async () => {
    const result = await run({ command: ["/no/such/program"] });
    expect(result.outcome).toBe("failed");
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toMatch(
      /^starting the container failed: .*no such file or directory/,
    );
  });

  it("fails without retries when the engine refuses the request", async () => {
    const missing = join(engine.scratchDir, "no-such-dir");
    const mount = await run({
      command: ["true"],
      volumes: [`${missing}:/data`],
    });
    expect(mount.error).toBeInstanceOf(NonRetryableError);
    expect(mount.error?.message).toMatch(
      /^creating the container failed: .*bind source path does not exist/,
    );
    expect(mount.error?.message).toContain(missing);
    const tiny = await run({ command: ["true"], resources: { memory: "1Mi" } });
    expect(tiny.error).toBeInstanceOf(NonRetryableError);
    expect(tiny.error?.message).toMatch(/memory limit/i);
  });

  it("asks for GPUs with a device request", async () => {
    const result = await run({
      command: ["true"],
      resources: { gpu: { count: 1, type: "nvidia-h100" } },
      remove: false,
    });
    const container = engine.docker.getContainer(
      String(result.output.container_id),
    );
    const info = await container.inspect();
    await container.remove({ force: true });
    expect(info.HostConfig.DeviceRequests).toEqual([
      expect.objectContaining({ Count: 1, Capabilities: [["gpu"]] }),
    ]);
    // An engine without a GPU driver (every machine here but a lent GPU
    // one) refuses the start: retryable, since another agent may have one.
    if (result.outcome === "failed") {
      expect(result.error).not.toBeInstanceOf(NonRetryableError);
      expect(result.error?.message).toMatch(
        /starting the container failed: could not select device driver/,
      );
    } else {
      expect(result.outcome).toBe("success");
    }
  });

  it("says which engine it could not reach", async () => {
    const missing = `unix://${engine.scratchDir}/no-engine.sock`;
    const result = await run({ command: ["true"], docker_host: missing });
    expect(result.outcome).toBe("failed");
    expect(result.error?.retryable).toBe(true);
    expect(result.error?.message).toMatch(
      `cannot reach the Docker engine at ${missing}`,
    );
  });
});

describe("docker plugin: images and pulls (stand-in registry)", () => {
  it("fails without retries when pull_policy is Never and the image is missing", async () => {
    const image = `${registry.address}/deerflow/busybox:absent`;
    const before = registry.requests.length;
    const result = await run({
      image,
      pull_policy: "Never",
      command: ["true"],
    });
    expect(result.outcome).toBe("failed");
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toBe(
      `config.image: image "${image}" is not on the Docker engine and ` +
        "pull_policy is Never",
    );
    expect(registry.requests.length).toBe(before);
  });

  it("pulls IfNotPresent once, and Always every time", async () => {
    const image = `${registry.address}/deerflow/busybox:1`;
    const manifestRequests = () =>
      registry.requests.filter((r) => r.includes("/manifests/1")).length;
    const start = manifestRequests();
    const first = await run({ image, command: ["echo", "pulled"] });
    expect(first.error).toBeUndefined();
    expect(lines(first.lines, "stdout")).toEqual(["pulled"]);
    expect(manifestRequests()).toBe(start + 1);
    expect(first.metrics.map((m) => m.name)).toContain(
      "docker_pull_duration_ms",
    );

    const again = await run({ image, command: ["true"] });
    expect(again.outcome).toBe("success");
    expect(manifestRequests()).toBe(start + 1);

    const always = await run({
      image,
      command: ["true"],
      pull_policy: "Always",
    });
    expect(always.outcome).toBe("success");
    expect(manifestRequests()).toBe(start + 2);
  });

  it("fails without retries when the registry has no such image", async () => {
    const image = `${registry.address}/deerflow/missing:1`;
    const result = await run({ image, command: ["true"] });
    expect(result.error).toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toMatch(
      new RegExp(
        `^config\\.image: pulling image "${image}" failed: .*not found`,
      ),
    );
  });

  it("cancels a pull that hangs when the attempt times out", async () => {
    const stalled = await startRegistryStandIn({
      rootfsTar: engine.rootfsTar,
      repository: "deerflow/busybox",
      tag: "1",
      stallBlobs: true,
    });
    try {
      const image = `${stalled.address}/deerflow/busybox:1`;
      const result = await run(
        { image, command: ["true"] },
        // Long enough for the engine to reach the blobs on a loaded machine.
        { timeoutMs: 5_000 },
      );
      expect(result.outcome).toBe("timed_out");
      expect(result.error?.retryClass).toBe("timeout");
      expect(result.error?.message).toBe("image pull timed out");
      expect(stalled.requests.some((r) => r.includes("/blobs/"))).toBe(true);
    } finally {
      await stalled.close();
    }
  });

  it("fails retryably when the registry cannot be reached", async () => {
    const port = await closedPort();
    const image = `127.0.0.1:${port}/deerflow/busybox:1`;
    const result = await run({ image, command: ["true"] });
    expect(result.outcome).toBe("failed");
    expect(result.error).not.toBeInstanceOf(NonRetryableError);
    expect(result.error?.message).toMatch(
      new RegExp(`^config\\.image: pulling image "${image}" failed: `),
    );
    expect(result.error?.message).toMatch(/connection refused/);
  });
});

describe("docker plugin: config", () => {
  function problems(config: object) {
    const result = validateDefinition(
      {
        name: "wf",
        params: { x: "1" },
        tasks: [{ id: "t", type: "docker", config }],
      },
      { taskTypes: new Map([["docker", dockerConfigSchema]]) },
    );
    return result.problems.map((p) => `${p.field}: ${p.message}`);
  }

  it("accepts a full config at submit time", () => {
    expect(
      problems({
        image: "alpine:3.20",
        command: "echo ${params.x}",
        env: { A: "1" },
        environment: { B: "2" },
        volumes: ["/data:/data:ro", { source: "cache", target: "/c" }],
        resources: { cpu: "500m", memory: "512Mi", gpu: { count: 1 } },
        pull_policy: "Never",
        docker_host: "unix:///var/run/docker.sock",
        remove: false,
        user: "1000",
        network: "none",
        working_dir: "/w",
        capture_output: false,
      }),
    ).toEqual([]);
  });

  it("rejects bad configs at submit time, naming each field", () => {
    const cases: [object, RegExp][] = [
      [{}, /^config\.image: is required$/],
      [{ image: "x", pull_policy: "Sometimes" }, /^config\.pull_policy: /],
      [
        { image: "x", resources: { memory: "lots" } },
        /config\.resources\.memory/,
      ],
      [{ image: "x", resources: { disk: "1Gi" } }, /config\.resources\.disk/],
      [{ image: "x", resources: { gpu: 0 } }, /config\.resources\.gpu/],
      [{ image: "x", volumes: ["nocolon"] }, /config\.volumes\[0\]/],
      [{ image: "x", command: [] }, /config\.command/],
      [{ image: "x", docker_host: "ssh://h" }, /config\.docker_host/],
      [{ image: "x", working_dir: "rel" }, /config\.working_dir/],
      [{ image: "x", env: { A: 1 } }, /config\.env\.A/],
      [{ image: "x", extra: 1 }, /^config\.extra: unknown field "extra"$/],
    ];
    for (const [config, field] of cases) {
      const found = problems(config);
      expect(found.length, JSON.stringify(config)).toBeGreaterThan(0);
      for (const problem of found) {
        expect(problem, JSON.stringify(config)).toMatch(field);
      }
    }
  });

  it("rejects at run time what the schema cannot, naming the field", async () => {
    const zeroCpu = await run({ command: ["true"], resources: { cpu: "0" } });
    expect(zeroCpu.error).toBeInstanceOf(NonRetryableError);
    expect(zeroCpu.error?.message).toMatch(/^config\.resources\.cpu: /);
    const clash = await run({ command: "echo", entrypoint: ["/bin/echo"] });
    expect(clash.error).toBeInstanceOf(NonRetryableError);
    expect(clash.error?.message).toMatch(/^config\.command: /);
  });
});

describe("docker plugin: probe", () => {
  it("labels the agent with the engine's version", async () => {
    const plugin = createDockerPlugin({ dockerHost: engine.dockerHost })(
      pluginSdk,
    );
    const labels = await plugin.probe?.();
    expect(labels?.docker).toMatch(/^\d+\.\d+/);
  });

  it("makes the type unavailable where no engine answers", async () => {
    const missing = `unix://${engine.scratchDir}/no-engine.sock`;
    const plugin = createDockerPlugin({ dockerHost: missing })(pluginSdk);
    await expect(plugin.probe?.()).rejects.toThrow(PluginUnavailableError);
    await expect(plugin.probe?.()).rejects.toThrow(
      `no Docker engine answers at ${missing}`,
    );
  });
});

/** A loopback port with nothing listening (it was just released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") {
    throw new Error("no port");
  }
  return address.port;
}
