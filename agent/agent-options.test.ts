import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveAgentOptions } from "./agent-options.js";

describe("resolveAgentOptions", () => {
  const serverUrl = "http://127.0.0.1:7070";

  it("fills every default", () => {
    const resolved = resolveAgentOptions({ serverUrl });
    expect(resolved.slots).toBeGreaterThanOrEqual(1);
    expect(resolved.name).not.toBe("");
    expect(resolved.stateDir).toMatch(/\.deerflow[/\\]agent$/);
    expect(resolved.reconnect).toEqual({
      initialDelayMs: 250,
      maxDelayMs: 10_000,
    });
  });

  it("makes relative dirs absolute: attempts run in dirs of their own", () => {
    const resolved = resolveAgentOptions({
      serverUrl,
      stateDir: "state",
      workRoot: "./work",
    });
    expect(resolved.stateDir).toBe(join(process.cwd(), "state"));
    expect(resolved.workRoot).toBe(join(process.cwd(), "work"));
  });

  it("names the option that is wrong", () => {
    expect(() => resolveAgentOptions({ serverUrl: "nope" })).toThrow(
      /^serverUrl: /,
    );
    expect(() => resolveAgentOptions({ serverUrl: "ftp://127.0.0.1" })).toThrow(
      /^serverUrl: /,
    );
    expect(() => resolveAgentOptions({ serverUrl, slots: 0 })).toThrow(
      /^slots: must be an integer from 1 to 10000, got 0$/,
    );
    expect(() => resolveAgentOptions({ serverUrl, slots: 20_000 })).toThrow(
      /^slots: must be an integer from 1 to 10000, got 20000$/,
    );
    // What the control plane would refuse in the hello, refused at start.
    expect(() =>
      resolveAgentOptions({ serverUrl, labels: { zöne: "a" } }),
    ).toThrow(/^labels\.zöne: the key must be 1 to 63 letters/);
    expect(() =>
      resolveAgentOptions({
        serverUrl,
        reconnect: { initialDelayMs: 500, maxDelayMs: 100 },
      }),
    ).toThrow(/^reconnect\.maxDelayMs: /);
  });
});
