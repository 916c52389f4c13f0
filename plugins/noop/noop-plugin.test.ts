import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { pluginSdk, TaskAbort } from "../../plugin-sdk/index.js";
import { runPlugin } from "../../plugin-sdk/testing.js";
import type { NoopConfig } from "./noop-config.js";
import { noopPlugin } from "./noop-plugin.js";

const noop = noopPlugin(pluginSdk);

describe("noop plugin", () => {
  it("succeeds at once with an empty output", async () => {
    const run = await runPlugin(noop, { config: {} });
    expect(run.outcome).toBe("success");
    expect(run.output).toEqual({});
    expect(run.lines).toEqual([]);
  });

  it("echoes its output object", async () => {
    const output = { rows: 3, nested: { ok: true }, list: [1, "a"] };
    const run = await runPlugin(noop, { config: { output } });
    expect(run.outcome).toBe("success");
    expect(run.output).toEqual(output);
  });

  it("waits sleep_ms, then succeeds", async () => {
    const run = await runPlugin(noop, {
      config: { sleep_ms: 20, output: { done: 1 } },
    });
    expect(run.outcome).toBe("success");
    expect(run.output).toEqual({ done: 1 });
  });

  it("ends a long wait when killed, without setting the output", async () => {
    const kill = new AbortController();
    const pending = runPlugin(noop, {
      config: { sleep_ms: 3_600_000, output: { done: 1 } },
      signal: kill.signal,
    });
    kill.abort(new TaskAbort("killed"));
    const run = await pending;
    expect(run.outcome).toBe("killed");
    expect(run.error?.message).toBe("noop was stopped (killed)");
    expect(run.output).toEqual({});
  });

  it("ends a long wait on timeout with retry class timeout", async () => {
    const run = await runPlugin(noop, {
      config: { sleep_ms: 3_600_000 },
      timeoutMs: 10,
    });
    expect(run.outcome).toBe("timed_out");
    expect(run.error?.retryClass).toBe("timeout");
  });

  it("refuses a rendered sleep_ms that is not a whole number, naming it", async () => {
    for (const sleep_ms of [-1, 1.5, "10"]) {
      const run = await runPlugin(noop, {
        config: { sleep_ms } as unknown as NoopConfig,
      });
      expect(run.outcome).toBe("failed");
      expect(run.error?.message).toMatch(/^sleep_ms: /);
      expect(run.error?.retryable).toBe(false);
    }
  });

  it("refuses a rendered output that is not an object, naming it", async () => {
    const run = await runPlugin(noop, {
      config: { output: [1] } as unknown as NoopConfig,
    });
    expect(run.outcome).toBe("failed");
    expect(run.error?.message).toBe("output: must be an object");
  });

  it("has a schema that accepts good configs and refuses bad ones", () => {
    const validate = new Ajv2020({ strict: true }).compile(noop.configSchema);
    const cases: [object, boolean][] = [
      [{}, true],
      [{ sleep_ms: 0 }, true],
      [{ sleep_ms: 250, output: { a: 1 } }, true],
      [{ sleep_ms: -1 }, false],
      [{ sleep_ms: 0.5 }, false],
      [{ sleep_ms: 86_400_001 }, false],
      [{ output: "x" }, false],
      [{ output: [] }, false],
      [{ extra: 1 }, false],
    ];
    for (const [config, valid] of cases) {
      expect(validate(config), JSON.stringify(config)).toBe(valid);
    }
  });
});
