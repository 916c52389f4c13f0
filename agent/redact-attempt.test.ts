import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../core/index.js";
import { AssignmentSchema } from "../gen/deerflow/v1/agent_pb.js";
import type { LogLine, MetricPoint } from "../gen/deerflow/v1/run_pb.js";
import type { Plugin, TaskContext } from "../plugin-sdk/index.js";
import { Attempt } from "./attempt.js";
import { renderTaskConfig } from "./render-task-config.js";

const TOKEN = "tok-0123456789";
const QUOTED = 'it\'s "quoted"';

/** A plugin that leaks its secrets every way a plugin can. */
function leakyPlugin(seen: { ctx?: TaskContext }): Plugin {
  return {
    type: "leaky",
    version: "1.0.0",
    configSchema: {
      type: "object",
      properties: { command: { type: "string", "x-encoding": "shell" } },
    },
    async execute(ctx) {
      seen.ctx = ctx;
      ctx.log.info(`token ${TOKEN}`, { [TOKEN]: [`x${TOKEN}`], QUOTED });
      ctx.streams.stdout(`stdout ${TOKEN}`);
      ctx.streams.stderr(JSON.stringify({ quoted: QUOTED }));
      ctx.metrics.gauge(`gauge_${TOKEN}`, 1, { label: TOKEN });
      ctx.output({ [TOKEN]: { nested: [TOKEN, 1] } });
      throw new Error(`cannot log in with ${TOKEN}`);
    },
  };
}

describe("an attempt with secrets", () => {
  let workRoot: string;

  beforeEach(async () => {
    workRoot = await mkdtemp(join(tmpdir(), "deerflow-redact-"));
  });

  afterEach(async () => {
    await rm(workRoot, { recursive: true, force: true });
  });

  it("gives the plugin the values and redacts everything it sends", async () => {
    const seen: { ctx?: TaskContext } = {};
    const logs: LogLine[] = [];
    const metrics: MetricPoint[] = [];
    const attempt = new Attempt({
      assignment: create(AssignmentSchema, {
        lease: { leaseId: "l-1", fencingToken: 1n },
        runId: "r",
        taskId: "t",
        attempt: 1,
        type: "leaky",
        config: { command: "login ${secrets.TOKEN} ${secrets.QUOTED}" },
        context: {
          params: {},
          tasks: {},
          run: { id: "r", name: "wf", started_at: "" },
          task: { id: "t", attempt: 1 },
        },
        secrets: { TOKEN, QUOTED, SHORT: "abc" },
      }),
      plugin: leakyPlugin(seen),
      workRoot,
      clock: systemClock,
      logger: silentLogger(),
      renderConfig: renderTaskConfig,
      sendLogs: (lines) => logs.push(...lines),
      sendMetrics: (points) => metrics.push(...points),
      abortGraceMs: 1000,
    });
    const result = await attempt.run();

    // The plugin had the values, rendered with the field's encoding.
    expect(seen.ctx?.secrets).toEqual({ TOKEN, QUOTED, SHORT: "abc" });
    expect(seen.ctx?.config.command).toBe(
      `login '${TOKEN}' 'it'\\''s "quoted"'`,
    );

    const sent = JSON.stringify({
      logs: logs.map((l) => ({ message: l.message, fields: l.fields })),
      metrics: metrics.map((m) => ({ name: m.name, labels: m.labels })),
      output: result.output,
      error: result.error,
    });
    expect(sent).not.toContain(TOKEN);
    expect(sent).not.toContain('s \\"quoted\\"');
    expect(sent).not.toContain("it's");
    expect(logs.map((l) => l.message)).toEqual([
      "token [REDACTED:TOKEN]",
      "stdout [REDACTED:TOKEN]",
      '{"quoted":"[REDACTED:QUOTED]"}',
    ]);
    expect(logs[0]?.fields).toEqual({
      "[REDACTED:TOKEN]": ["x[REDACTED:TOKEN]"],
      QUOTED: "[REDACTED:QUOTED]",
    });
    expect(metrics[0]?.name).toBe("gauge_[REDACTED:TOKEN]");
    expect(metrics[0]?.labels).toEqual({ label: "[REDACTED:TOKEN]" });
    expect(result.output).toEqual({
      "[REDACTED:TOKEN]": { nested: ["[REDACTED:TOKEN]", 1] },
    });
    expect(result.error).toBe("cannot log in with [REDACTED:TOKEN]");
  });
});
