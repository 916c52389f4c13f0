import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../core/index.js";
import { AssignmentSchema } from "../gen/deerflow/v1/agent_pb.js";
import { AttemptOutcome } from "../gen/deerflow/v1/run_pb.js";
import type { JsonObject, Plugin } from "../plugin-sdk/index.js";
import { Attempt, type AttemptOptions } from "./attempt.js";
import { renderTaskConfig } from "./render-task-config.js";

/** A plugin that reports `values` as its output, in one ctx.output call. */
function outputting(values: JsonObject): Plugin {
  return {
    type: "out",
    version: "1.0.0",
    configSchema: { type: "object" },
    async execute(ctx) {
      ctx.output(values);
      return undefined;
    },
  };
}

describe("an attempt's output", () => {
  let workRoot: string;

  beforeEach(async () => {
    workRoot = await mkdtemp(join(tmpdir(), "deerflow-output-"));
  });

  afterEach(async () => {
    await rm(workRoot, { recursive: true, force: true });
  });

  /** An attempt of `plugin`, sending its logs and metrics to `sent`. */
  const attemptOf = (
    plugin: Plugin,
    sent: Pick<AttemptOptions, "sendLogs" | "sendMetrics"> = {
      sendLogs: () => {},
      sendMetrics: () => {},
    },
  ) =>
    new Attempt({
      assignment: create(AssignmentSchema, {
        lease: { leaseId: "l-1", fencingToken: 1n },
        runId: "r",
        taskId: "t",
        attempt: 1,
        type: plugin.type,
      }),
      plugin,
      workRoot,
      clock: systemClock,
      logger: silentLogger(),
      renderConfig: renderTaskConfig,
      abortGraceMs: 1000,
      ...sent,
    });

  const run = (values: JsonObject) => attemptOf(outputting(values)).run();

  it("says where a __proto__ key was, at the top level too", async () => {
    const result = await run(JSON.parse('{"__proto__":{"x":1},"ok":2}'));
    expect(result.output).toEqual({
      _error:
        "at .__proto__: is a key no JavaScript object keeps as data (it names the object's prototype): rename it",
    });
  });

  it("keeps the fields of a plain output", async () => {
    const result = await run({ ok: 2, nested: { a: [1] } });
    expect(result.output).toEqual({ ok: 2, nested: { a: [1] } });
  });

  it("takes ctx's functions called apart from ctx", async () => {
    const lines: string[] = [];
    const metrics: string[] = [];
    const attempt = attemptOf(
      {
        type: "apart",
        version: "1.0.0",
        configSchema: { type: "object" },
        async execute({ output, log, metrics, streams, bind }) {
          const { info } = log;
          const { counter } = metrics;
          const { stdout } = streams;
          info("hello");
          stdout("a line");
          counter("rows", 3);
          output({ bound: bind("no templates").strings });
          return undefined;
        },
      },
      {
        sendLogs: (sent) => lines.push(...sent.map((l) => l.message)),
        sendMetrics: (sent) =>
          metrics.push(...sent.map((m) => `${m.name}=${m.value}`)),
      },
    );
    const result = await attempt.run();
    expect(result.error).toBe("");
    expect(lines).toEqual(["hello", "a line"]);
    expect(metrics).toEqual(["rows=3"]);
    expect(result.output).toEqual({ bound: ["no templates"] });
  });

  it("reports even when what the plugin returned cannot be read", async () => {
    const attempt = attemptOf({
      type: "getter",
      version: "1.0.0",
      configSchema: { type: "object" },
      async execute() {
        return {
          get exitCode(): number {
            throw new Error("getter boom");
          },
        };
      },
    });
    expect(await attempt.run()).toMatchObject({
      outcome: AttemptOutcome.FAILED,
      error: "the plugin's result could not be read: Error: getter boom",
    });
  });

  it("bounds a metric's name, writes its labels as text and refuses a value that is no number", async () => {
    const points: { name: string; labels: Record<string, string> }[] = [];
    let refused = "";
    const attempt = attemptOf(
      {
        type: "metrics",
        version: "1.0.0",
        configSchema: { type: "object" },
        async execute(ctx) {
          ctx.metrics.counter("M".repeat(1000), 1, {
            n: 1 as unknown as string,
          });
          try {
            ctx.metrics.gauge("g", "abc" as unknown as number);
          } catch (error) {
            refused = (error as Error).message;
          }
          return undefined;
        },
      },
      {
        sendLogs: () => {},
        sendMetrics: (sent) => points.push(...sent),
      },
    );
    await attempt.run();
    expect(points).toMatchObject([
      { name: `${"M".repeat(255)}…`, labels: { n: "1" } },
    ]);
    expect(refused).toBe(
      "ctx.metrics.gauge: the value must be a finite number, not abc",
    );
  });
});
