import { describe, expect, it } from "vitest";
import {
  evaluateCondition,
  evaluateExpression,
} from "./evaluate-expression.js";
import type { TemplateContext } from "./template-context.js";
import { TemplateError } from "./template-error.js";

const context: TemplateContext = {
  params: { date: "2026-12-01", n: 3, ratio: 0.25, files: ["a", "b"] },
  tasks: {
    extract: {
      status: "SUCCESS",
      output: { rows: 5, big: 2 ** 53 + 2 },
      exit_code: 0,
      attempts: 2,
    },
    empty: { status: "SUCCESS", output: { rows: 0 }, attempts: 1 },
  },
  run: { id: "run-9", name: "nightly", started_at: "2026-12-01T00:00:00Z" },
  task: { id: "load", attempt: 1 },
};

describe("evaluateCondition", () => {
  it("evaluates CEL booleans over tasks, params, run and task", () => {
    expect(evaluateCondition("tasks.extract.output.rows > 0", context)).toBe(
      true,
    );
    expect(evaluateCondition("tasks.empty.output.rows > 0", context)).toBe(
      false,
    );
    expect(evaluateCondition("tasks.extract.exit_code == 0", context)).toBe(
      true,
    );
    expect(evaluateCondition("tasks.extract.attempts == 2", context)).toBe(
      true,
    );
    expect(evaluateCondition("!has(tasks.empty.exit_code)", context)).toBe(
      true,
    );
    expect(
      evaluateCondition("run.name == 'nightly' && task.attempt == 1", context),
    ).toBe(true);
    expect(evaluateCondition("'b' in params.files", context)).toBe(true);
    expect(evaluateCondition("n == 3", context)).toBe(true);
  });

  it("throws when the result is not a bool", () => {
    expect(() => evaluateCondition("params.n", context)).toThrow(TemplateError);
    expect(() => evaluateCondition("params.n", context)).toThrow(
      /must be a bool, not a number/,
    );
    expect(() => evaluateCondition("params.files", context)).toThrow(
      /not a list/,
    );
  });

  it("throws when evaluation fails", () => {
    expect(() =>
      evaluateCondition("tasks.nope.status == 'x'", context),
    ).toThrow(TemplateError);
    expect(() => evaluateCondition("1 +", context)).toThrow(/does not parse/);
  });
});

describe("evaluateExpression", () => {
  it("treats whole numbers as CEL ints and returns JS numbers", () => {
    expect(evaluateExpression("params.n + 1", context)).toBe(4);
    expect(evaluateExpression("params.ratio * 2.0", context)).toBe(0.5);
    expect(evaluateExpression("size(params.files)", context)).toBe(2);
    expect(evaluateExpression("1u + 2u", context)).toBe(3);
  });

  it("returns maps as objects and lists as arrays", () => {
    expect(evaluateExpression("{'a': [1, 'x', true, null]}", context)).toEqual({
      a: [1, "x", true, null],
    });
    expect(
      evaluateExpression("params.files.map(f, f + '.csv')", context),
    ).toEqual(["a.csv", "b.csv"]);
  });

  it("writes timestamps and durations as text; now() is a timestamp", () => {
    expect(
      evaluateExpression("timestamp('2026-12-01T00:00:00Z')", context),
    ).toBe("2026-12-01T00:00:00Z");
    expect(evaluateExpression("duration('90s')", context)).toBe("90s");
    const now = evaluateExpression("now()", context);
    expect(Number.isNaN(Date.parse(String(now)))).toBe(false);
  });

  it("refuses values JSON cannot hold", () => {
    expect(() => evaluateExpression("b'ab'", context)).toThrow(/bytes/);
    expect(() => evaluateExpression("1.0 / 0.0", context)).toThrow(
      /not a JSON number/,
    );
    expect(() => evaluateExpression("9223372036854775807", context)).toThrow(
      /too large/,
    );
    expect(() => evaluateExpression("int", context)).toThrow(/type/);
  });

  it("keeps an unsafe integer from JSON as a double", () => {
    expect(evaluateExpression("tasks.extract.output.big", context)).toBe(
      2 ** 53 + 2,
    );
  });

  it("gives keys like __proto__ and toString no special meaning", () => {
    const hostile: TemplateContext = {
      ...context,
      params: JSON.parse('{"__proto__": {"polluted": true}, "n": 1}'),
    };
    expect(evaluateExpression("params['__proto__'].polluted", hostile)).toBe(
      true,
    );
    expect(evaluateExpression("params", hostile)).toEqual(
      JSON.parse('{"__proto__": {"polluted": true}, "n": 1}'),
    );
    expect(evaluateCondition("has(params.toString)", hostile)).toBe(false);
    expect(() => evaluateExpression("constructor", hostile)).toThrow(
      TemplateError,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
