import { describe, expect, it } from "vitest";
import { bindTemplate } from "./bind-template.js";
import type { TemplateContext } from "./template-context.js";

const context: TemplateContext = {
  params: { name: "' OR 1=1 --", limit: 5, tags: ["a", "b"] },
  tasks: { extract: { status: "SUCCESS", output: { rows: 3 }, attempts: 1 } },
  run: { id: "r1", name: "etl", started_at: "2026-12-04T00:00:00.000Z" },
  task: { id: "load", attempt: 1 },
};

describe("bindTemplate", () => {
  it("splits a statement at its templates and keeps each value's type", () => {
    const bound = bindTemplate(
      "select * from t where name = ${params.name} and n < ${params.limit} and x = ${tasks.extract.output.rows}",
      context,
    );
    expect(bound.strings).toEqual([
      "select * from t where name = ",
      " and n < ",
      " and x = ",
      "",
    ]);
    expect(bound.values).toEqual(["' OR 1=1 --", 5, 3]);
  });

  it("reads a bare name as a param and `$${` as a literal", () => {
    const bound = bindTemplate("select '$${x}', ${limit}", context);
    expect(bound.strings).toEqual(["select '${x}', ", ""]);
    expect(bound.values).toEqual([5]);
  });

  it("returns the text alone when it has no template", () => {
    expect(bindTemplate("select 1", context)).toEqual({
      strings: ["select 1"],
      values: [],
    });
  });

  it("names the field when a template does not parse or fails", () => {
    expect(() => bindTemplate("select ${", context, "config.query")).toThrow(
      expect.objectContaining({ field: "config.query" }),
    );
    expect(() =>
      bindTemplate("select ${params.missing.deeper}", context, "config.query"),
    ).toThrow(expect.objectContaining({ field: "config.query" }));
  });
});
