import { describe, expect, it } from "vitest";
import { condition } from "./condition.js";
import { expr } from "./expr.js";
import { celText, isExpression } from "./expression.js";
import { index, item, param, params, ref, run, secret } from "./ref.js";
import { ShellTask } from "./tasks/shell-task.js";

describe("ref", () => {
  it("writes member reads as CEL paths and templates", () => {
    const extract = new ShellTask("extract", "true");
    expect(String(ref(extract).output.rows)).toBe(
      "${tasks.extract.output.rows}",
    );
    expect(`n=${ref("extract").exit_code}`).toBe(
      "n=${tasks.extract.exit_code}",
    );
    expect(String(params.date)).toBe("${params.date}");
    expect(String(param("date"))).toBe("${params.date}");
    expect(String(item.name)).toBe("${item.name}");
    expect(String(index)).toBe("${index}");
    expect(String(run.id)).toBe("${run.id}");
    expect(String(secret("API_TOKEN"))).toBe("${secrets.API_TOKEN}");
  });

  it("reads keys CEL cannot follow a dot with by index", () => {
    expect(celText(ref("load-2").output("files", 0))).toBe(
      'tasks["load-2"].output.files[0]',
    );
    expect(celText(ref("a.b").output("my key"))).toBe(
      'tasks["a.b"].output["my key"]',
    );
    expect(celText(ref("t").output("in"))).toBe('tasks.t.output["in"]');
    expect(celText(ref("t").output("then"))).toBe("tasks.t.output.then");
    expect(celText(params('quote"d'))).toBe('params["quote\\"d"]');
    // Property reads and calls make the same references.
    const read = (ref("t").output as unknown as Record<string, unknown>).rows;
    expect(String(read)).toBe(String(ref("t").output("rows")));
  });

  it("is an expression, never a promise or a plain object", () => {
    const r = ref("t").output;
    expect(isExpression(r)).toBe(true);
    expect((r as unknown as { then?: unknown }).then).toBeUndefined();
    expect(Object.keys(r)).toEqual([]);
    expect(typeof r).toBe("function");
    expect(JSON.stringify({ r })).toBe('{"r":"${tasks.t.output}"}');
  });
});

describe("expr and condition", () => {
  it("splices references as CEL and values as literals", () => {
    const minimum = 100;
    expect(celText(expr`${ref("x").output.rows} > ${minimum}`)).toBe(
      "tasks.x.output.rows > 100",
    );
    expect(
      condition`${params.mode} == ${"full"} && ${params.tags}.exists(t, t in ${[
        "a",
        1,
        true,
        null,
      ]})`,
    ).toBe(
      'params.mode == "full" && params.tags.exists(t, t in ["a", 1, true, null])',
    );
    expect(celText(expr`size(${{ a: [1], b: { c: "d" } }})`)).toBe(
      'size({"a": [1], "b": {"c": "d"}})',
    );
  });

  it("keeps a hostile string a string literal", () => {
    const hostile = '" || true || "\\\n${x}';
    const text = celText(expr`params.name == ${hostile}`);
    expect(text).toBe(`params.name == ${JSON.stringify(hostile)}`);
    expect(JSON.parse(text.slice("params.name == ".length))).toBe(hostile);
  });

  it("wraps a compound expression in parentheses when spliced", () => {
    const big = expr`${params.a} + ${params.b}`;
    expect(celText(expr`${big} * 2`)).toBe("(params.a + params.b) * 2");
  });

  it("takes CEL text or an expression as a condition", () => {
    expect(condition("tasks.a.output.ok")).toBe("tasks.a.output.ok");
    expect(condition(ref("a").output("ok"))).toBe("tasks.a.output.ok");
    expect(() => condition("")).toThrow("condition: must not be empty");
    expect(() => expr`${Number.NaN}`).toThrow("has no CEL literal");
    expect(() => expr`${() => 1}`).toThrow("a function has no CEL literal");
  });
});
