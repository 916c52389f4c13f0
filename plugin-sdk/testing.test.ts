import { access, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { JsonObject, TaskContext } from "./plugin.js";
import { definePlugin } from "./plugin-sdk.js";
import { TaskAbort } from "./task-abort.js";
import { NonRetryableError, TaskError } from "./task-error.js";
import { runPlugin } from "./testing.js";

function plugin(
  execute: (ctx: TaskContext) => Promise<{ exitCode?: number } | undefined>,
) {
  return definePlugin<JsonObject>({
    type: "probe-test",
    version: "1.0.0",
    configSchema: { type: "object" },
    execute,
  });
}

/** Resolves when the signal aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

describe("runPlugin", () => {
  it("collects output, lines and metrics of a successful run", async () => {
    let workDir = "";
    const run = await runPlugin(
      plugin(async (ctx) => {
        workDir = ctx.workDir;
        await writeFile(join(ctx.workDir, "f"), "x");
        ctx.output({ a: 1, b: 1 });
        ctx.output({ b: 2, seen: ctx.config.value ?? null });
        ctx.streams.stdout("out");
        ctx.streams.stderr("err");
        ctx.log.info("done", { n: 1 });
        ctx.metrics.counter("items");
        ctx.metrics.timer("step_ms", 12, { step: "one" });
        return { exitCode: 0 };
      }),
      {
        config: { value: "v" },
        setup: (dir) => writeFile(join(dir, "in"), ""),
      },
    );
    expect(run.outcome).toBe("success");
    expect(run.error).toBeUndefined();
    expect(run.exitCode).toBe(0);
    expect(run.output).toEqual({ a: 1, b: 2, seen: "v" });
    expect(run.lines).toEqual([
      { stream: "stdout", message: "out" },
      { stream: "stderr", message: "err" },
      { stream: "log", level: "info", message: "done", fields: { n: 1 } },
    ]);
    expect(run.metrics).toEqual([
      { kind: "counter", name: "items", value: 1 },
      { kind: "timer", name: "step_ms", value: 12, labels: { step: "one" } },
    ]);
    await expect(access(workDir)).rejects.toThrow();
  });

  it("keeps a TaskError and wraps anything else", async () => {
    const typed = await runPlugin(
      plugin(async () => {
        throw new NonRetryableError("nope", { exitCode: 2 });
      }),
      { config: {} },
    );
    expect(typed.outcome).toBe("failed");
    expect(typed.error).toBeInstanceOf(NonRetryableError);
    expect(typed.exitCode).toBe(2);
    const plain = await runPlugin(
      plugin(async () => {
        throw new RangeError("bad");
      }),
      { config: {} },
    );
    expect(plain.error).toBeInstanceOf(TaskError);
    expect(plain.error?.message).toBe("bad");
    expect(plain.error?.cause).toBeInstanceOf(RangeError);
  });

  it("aborts with TaskAbort('timeout') after timeoutMs", async () => {
    const run = await runPlugin(
      plugin(async (ctx) => {
        await aborted(ctx.signal);
        expect(TaskAbort.reasonOf(ctx.signal)).toBe("timeout");
        throw new TaskError("stopped", { retryClass: "timeout" });
      }),
      { config: {}, timeoutMs: 10 },
    );
    expect(run.outcome).toBe("timed_out");
  });

  it("passes an external abort through, by reason", async () => {
    const stopWith = async (reason: unknown) => {
      const controller = new AbortController();
      return runPlugin(
        plugin(async (ctx) => {
          controller.abort(reason);
          await aborted(ctx.signal);
          throw new TaskError("stopped");
        }),
        { config: {}, signal: controller.signal },
      );
    };
    expect((await stopWith(new TaskAbort("lost"))).outcome).toBe("lost");
    expect((await stopWith(new Error("user"))).outcome).toBe("killed");
  });

  it("reports success for a plugin that ignores its abort", async () => {
    const controller = new AbortController();
    controller.abort(new TaskAbort("killed"));
    const run = await runPlugin(
      plugin(async () => undefined),
      { config: {}, signal: controller.signal },
    );
    // Honest about what the plugin did: the conformance suite checks it.
    expect(run.outcome).toBe("success");
  });
});
