import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ConformanceCases,
  runConformance,
} from "../../plugin-sdk/conformance.js";
import { type Plugin, pluginSdk } from "../../plugin-sdk/index.js";
import { createDockerPlugin } from "../../plugins/docker/index.js";
import { noopPlugin } from "../../plugins/noop/index.js";
import {
  type DockerEngine,
  startDockerEngine,
} from "../support/docker-engine.js";

/**
 * The shared conformance suite on the built-in types whose own folders do
 * not run it (shell, python, http, sql, kubernetes and spark do, each
 * beside its plugin), and on the example plugin through the CLI test.
 */
function failures(
  results: { name: string; passed: boolean; reason?: string }[],
) {
  return results.filter((r) => !r.passed).map((r) => `${r.name}: ${r.reason}`);
}

describe("conformance of noop", () => {
  it("passes every check", async () => {
    const plugin = noopPlugin(pluginSdk) as unknown as Plugin;
    const cases: ConformanceCases = {
      success: {
        config: { output: { answer: 42 } },
        writesLog: false,
        check: (run) => expect(run.output).toEqual({ answer: 42 }),
      },
      // A template passes the submit-time schema check; a value that is
      // not a whole number once rendered fails the attempt.
      failure: { config: { sleep_ms: "${params.wait}" } },
      longRunning: { config: { sleep_ms: 600_000 } },
      invalidConfigs: [
        { config: { sleep_ms: -1 }, field: "config.sleep_ms" },
        { config: { output: "x" }, field: "config.output" },
        { config: { extra: true }, field: "config.extra" },
      ],
    };
    expect(failures(await runConformance(plugin, cases))).toEqual([]);
  });
});

describe("conformance of docker, on a real engine", () => {
  let engine: DockerEngine;
  beforeAll(async () => {
    engine = await startDockerEngine();
  }, 900_000);
  afterAll(async () => {
    await engine?.stop();
  });

  it("passes every check", async () => {
    const plugin = createDockerPlugin({
      dockerHost: engine.dockerHost,
      killGraceMs: 500,
    })(pluginSdk) as unknown as Plugin;
    const label = `conformance-${process.pid}`;
    const containersLeft = () => {
      const listed = spawnSync(
        "docker",
        [
          "-H",
          engine.dockerHost,
          "ps",
          "-aq",
          "--filter",
          `label=deerflow.task_id=${label}`,
        ],
        { encoding: "utf8" },
      );
      return listed.stdout.trim();
    };
    const cases: ConformanceCases = {
      success: {
        config: { image: engine.image, command: "echo hello from busybox" },
        taskId: label,
      },
      failure: {
        config: { image: engine.image, command: "exit 3" },
        taskId: label,
      },
      longRunning: {
        config: { image: engine.image, command: "echo started; sleep 600" },
        taskId: label,
        started: (line) => line.message.includes("started"),
        stopped: async () => containersLeft() === "",
      },
      invalidConfigs: [
        { config: { command: "true" }, field: "config.image" },
        {
          config: { image: engine.image, pull_policy: "Sometimes" },
          field: "config.pull_policy",
        },
      ],
    };
    expect(failures(await runConformance(plugin, cases))).toEqual([]);
    expect(containersLeft()).toBe("");
  }, 300_000);
});
