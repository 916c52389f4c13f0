import { describe, expect, it } from "vitest";
import { ConfigFieldError } from "./config-field-error.js";
import {
  containerSpec,
  deviceRequests,
  type SpecContext,
} from "./container-spec.js";
import type { DockerConfig } from "./docker-config.js";

const ctx: SpecContext = {
  runId: "run-1",
  taskId: "train",
  attempt: 2,
  workDir: "/work/a",
  env: { FROM_TASK: "task", SHARED: "task" },
  resources: { cpuMillis: 0, memoryBytes: 0, gpuIndexes: [] },
};

function spec(config: Omit<DockerConfig, "image">, context = ctx) {
  return containerSpec({ image: "img:1", ...config }, context);
}

describe("containerSpec", () => {
  it("labels the container with run, task and attempt", () => {
    expect(spec({}).Labels).toEqual({
      "deerflow.run_id": "run-1",
      "deerflow.task_id": "train",
      "deerflow.attempt": "2",
    });
  });

  it("never asks for a TTY, so stdout and stderr stay apart", () => {
    expect(spec({})).toMatchObject({
      Image: "img:1",
      Tty: false,
      OpenStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: { AutoRemove: false },
    });
  });

  it("runs a string command with sh -c and an argv list as given", () => {
    expect(spec({ command: "echo $HOME" })).toMatchObject({
      Entrypoint: ["/bin/sh", "-c"],
      Cmd: ["echo $HOME"],
    });
    const argv = spec({ command: ["echo", "a b"] });
    expect(argv.Cmd).toEqual(["echo", "a b"]);
    expect(argv.Entrypoint).toBeUndefined();
    expect(spec({ entrypoint: "/bin/echo", command: ["x"] })).toMatchObject({
      Entrypoint: ["/bin/echo"],
      Cmd: ["x"],
    });
    const none = spec({});
    expect(none.Cmd).toBeUndefined();
    expect(none.Entrypoint).toBeUndefined();
  });

  it("refuses a string command with an entrypoint, naming command", () => {
    expect(() => spec({ command: "echo", entrypoint: ["/x"] })).toThrow(
      ConfigFieldError,
    );
    expect(() => spec({ command: "echo", entrypoint: ["/x"] })).toThrow(
      /^config\.command: /,
    );
  });

  it("layers attempt facts, task env, environment and env", () => {
    const env = spec({
      environment: { SHARED: "environment", ONLY_ENVIRONMENT: "e" },
      env: { SHARED: "env" },
    }).Env;
    expect(env).toEqual([
      "DEERFLOW_RUN_ID=run-1",
      "DEERFLOW_TASK_ID=train",
      "DEERFLOW_ATTEMPT=2",
      "FROM_TASK=task",
      "SHARED=env",
      "ONLY_ENVIRONMENT=e",
    ]);
  });

  it("sets user, working_dir and network", () => {
    expect(
      spec({ user: "1000:1000", working_dir: "/data", network: "none" }),
    ).toMatchObject({
      User: "1000:1000",
      WorkingDir: "/data",
      HostConfig: { NetworkMode: "none" },
    });
  });

  it("turns resources into limits, with memory swap equal to memory", () => {
    const host = spec({
      resources: { cpu: "500m", memory: "64Mi" },
    }).HostConfig;
    expect(host).toMatchObject({
      NanoCpus: 500_000_000,
      Memory: 67_108_864,
      MemorySwap: 67_108_864,
    });
  });

  it("falls back to the attempt's allocated resources", () => {
    const allocated = {
      ...ctx,
      resources: { cpuMillis: 1500, memoryBytes: 1 << 30, gpuIndexes: [] },
    };
    expect(spec({}, allocated).HostConfig).toMatchObject({
      NanoCpus: 1_500_000_000,
      Memory: 1 << 30,
    });
    expect(
      spec({ resources: { memory: "1Gi" } }, allocated).HostConfig,
    ).toMatchObject({ NanoCpus: 1_500_000_000, Memory: 1 << 30 });
    const unlimited = spec({}).HostConfig ?? {};
    expect(unlimited.NanoCpus).toBeUndefined();
    expect(unlimited.Memory).toBeUndefined();
  });

  it("names the resource a bad quantity came from", () => {
    expect(() => spec({ resources: { cpu: "0" } })).toThrow(
      /^config\.resources\.cpu: /,
    );
    expect(() => spec({ resources: { memory: "lots" } })).toThrow(
      /^config\.resources\.memory: "lots" is not a quantity/,
    );
  });

  it("mounts volumes", () => {
    expect(spec({ volumes: ["./in:/in:ro"] }).HostConfig?.Mounts).toEqual([
      { Type: "bind", Source: "/work/a/in", Target: "/in", ReadOnly: true },
    ]);
  });
});

describe("deviceRequests", () => {
  it("asks for a count of GPUs", () => {
    const count = [{ Driver: "", Count: 2, Capabilities: [["gpu"]] }];
    expect(deviceRequests(2, [])).toEqual(count);
    expect(deviceRequests("2", [])).toEqual(count);
    expect(deviceRequests({ count: 2, type: "nvidia-h100" }, [])).toEqual(
      count,
    );
    expect(deviceRequests({ type: "nvidia-h100" }, [])?.[0]?.Count).toBe(1);
    expect(deviceRequests(undefined, [])).toBeUndefined();
  });

  it("asks for the GPUs the agent allocated, by index", () => {
    expect(deviceRequests(1, [3, 5])).toEqual([
      { Driver: "", DeviceIDs: ["3", "5"], Capabilities: [["gpu"]] },
    ]);
    expect(deviceRequests(undefined, [0])?.[0]?.DeviceIDs).toEqual(["0"]);
  });

  it("refuses a count under one, naming the field", () => {
    expect(() => deviceRequests(0, [])).toThrow(/^config\.resources\.gpu: /);
  });
});
