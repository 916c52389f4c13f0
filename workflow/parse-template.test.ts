import { describe, expect, it } from "vitest";
import {
  parseTemplate,
  soleExpression,
  writesTemplate,
} from "./parse-template.js";
import { TemplateError } from "./template-error.js";

const sources = (text: string) =>
  parseTemplate(text).flatMap((p) =>
    p.kind === "expression" ? [p.source] : [],
  );

describe("parseTemplate", () => {
  it("splits text and expressions, with offsets", () => {
    expect(parseTemplate("run ${params.date} now")).toEqual([
      { kind: "text", text: "run " },
      { kind: "expression", source: "params.date", offset: 4 },
      { kind: "text", text: " now" },
    ]);
  });

  it("writes $${ as a literal ${", () => {
    expect(parseTemplate("echo $${HOME} ${x}")).toEqual([
      { kind: "text", text: "echo ${HOME} " },
      { kind: "expression", source: "x", offset: 14 },
    ]);
    expect(sources("$${not.a.template}")).toEqual([]);
  });

  it("skips braces inside map literals and string literals", () => {
    expect(sources("${ {'a': {'b': 1}}.a.b }")).toEqual([
      " {'a': {'b': 1}}.a.b ",
    ]);
    expect(sources("${\"}\" + '}'}")).toEqual(["\"}\" + '}'"]);
    expect(sources("${'it\\'s }' + x}")).toEqual(["'it\\'s }' + x"]);
    expect(sources("${'''a ' } ''' + b}")).toEqual(["'''a ' } ''' + b"]);
  });

  it("knows raw strings end at the first quote", () => {
    // In r'...' a backslash is not an escape, so the string is `a\`.
    expect(sources("${r'a\\' + '}'}")).toEqual(["r'a\\' + '}'"]);
  });

  it("skips a comment that holds a brace", () => {
    expect(sources("${x // }\n}")).toEqual(["x // }\n"]);
  });

  it("rejects a template that is never closed", () => {
    expect(() => parseTemplate("a ${params.x")).toThrow(TemplateError);
    expect(() => parseTemplate("a ${params.x")).toThrow(/column 3/);
    expect(() => parseTemplate("${'abc}")).toThrow(/string that is not closed/);
  });

  it("finds a string that is exactly one template", () => {
    expect(soleExpression("${params.n}")).toBe("params.n");
    expect(soleExpression(" ${params.n}")).toBeUndefined();
    expect(soleExpression("${a}${b}")).toBeUndefined();
    expect(soleExpression("plain")).toBeUndefined();
  });

  it("tells a template, even one never closed, from literal text", () => {
    expect(writesTemplate("${params.n}")).toBe(true);
    expect(writesTemplate("a ${params.x")).toBe(true);
    expect(writesTemplate("$${not} {{ this }}")).toBe(false);
  });
});
