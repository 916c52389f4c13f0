import { describe, expect, it } from "vitest";
import { buildSparkSubmission } from "./spark-argv.js";
import type { SparkConfig } from "./spark-config.js";

const base: SparkConfig = { application: "app.jar", master: "yarn" };

describe("buildSparkSubmission", () => {
  it("builds the minimal argv and classifies the master", () => {
    expect(buildSparkSubmission(base)).toEqual({
      argv: ["--master", "yarn", "--deploy-mode", "client", "app.jar"],
      manager: "yarn",
      deployMode: "client",
      master: "yarn",
    });
    expect(
      buildSparkSubmission({ ...base, master: "k8s://https://k:6443" }).manager,
    ).toBe("kubernetes");
  });

  it("names the field of a rendered value the schema would refuse", () => {
    const bad: [Partial<Record<keyof SparkConfig, unknown>>, RegExp][] = [
      [{ master: "http://x" }, /^config\.master: "http:\/\/x" is not/],
      [{ deploy_mode: "both" }, /^config\.deploy_mode: must be/],
      [{ executor_cores: 1.5 }, /^config\.executor_cores: must be a whole/],
      [{ num_executors: "3" }, /^config\.num_executors: /],
      [{ executor_memory: "lots" }, /^config\.executor_memory: /],
      [{ packages: ["a,b"] }, /^config\.packages\[0\]: /],
      [{ spark_conf: { "a=b": 1 } }, /^config\.spark_conf\.a=b: /],
      [{ spark_conf: { a: null } }, /^config\.spark_conf\.a: /],
      [{ args: [{}] }, /^config\.args\[0\]: /],
      [{ application: "" }, /^config\.application: /],
    ];
    for (const [patch, message] of bad) {
      expect(() =>
        buildSparkSubmission({ ...base, ...patch } as SparkConfig),
      ).toThrow(message);
    }
  });
});
