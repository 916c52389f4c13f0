import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import { LazyChildLogger } from "./lazy-child-logger.js";

function logger(level: string) {
  const lines: Record<string, unknown>[] = [];
  const parent = pino(
    { level, base: { agent_id: "a" }, timestamp: false },
    { write: (line: string) => lines.push(JSON.parse(line)) },
  );
  return { parent, lines, child: vi.spyOn(parent, "child") };
}

const bindings = { run_id: "r", task_id: "t", attempt: 1, lease_id: "l" };

describe("LazyChildLogger", () => {
  it("makes no child while nothing is written", () => {
    const { parent, lines, child } = logger("info");
    const lazy = new LazyChildLogger(parent, bindings);
    lazy.debug({ task_type: "noop" }, "attempt started");
    lazy.debug({ outcome: "SUCCESS" }, "attempt finished");
    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
  });

  it("writes the lines an eager child writes, making it once", () => {
    const eager = logger("debug");
    const lazy = logger("debug");
    const attempt = new LazyChildLogger(lazy.parent, bindings);
    const child = eager.parent.child(bindings);
    for (const level of ["debug", "info", "warn"] as const) {
      attempt[level]({ n: 1 }, `${level} line`);
      child[level]({ n: 1 }, `${level} line`);
    }
    expect(lazy.lines).toEqual(eager.lines);
    expect(lazy.lines).toHaveLength(3);
    expect(lazy.lines[0]).toMatchObject({ agent_id: "a", ...bindings });
    expect(lazy.child).toHaveBeenCalledTimes(1);
  });
});
