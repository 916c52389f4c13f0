import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { ConfigSchema, JsonObject } from "../plugin-sdk/index.js";
import { renderConfig } from "./render-config.js";
import { shellQuote } from "./shell-quote.js";
import type { TemplateContext } from "./template-context.js";
import { TemplateError } from "./template-error.js";
import { httpSchema, shellSchema } from "./test-support.js";

const run = promisify(execFile);

function context(params: JsonObject): TemplateContext {
  return {
    params,
    tasks: {
      extract: {
        status: "SUCCESS",
        output: { rows: 42, files: ["a.csv", "b.csv"] },
        exit_code: 0,
        attempts: 1,
      },
    },
    run: { id: "run-1", name: "nightly", started_at: "2026-12-01T00:00:00Z" },
    task: { id: "load", attempt: 2 },
  };
}

const HOSTILE = [
  "it's",
  'say "hi"',
  "a; echo injected && exit 3",
  "$(id)",
  "`id`",
  "${HOME}",
  "line one\nline two\n",
  "tab\there",
  "'; echo injected; '",
  "\\'\\\\",
  "unicode: héllo ✓ 日本語 🚀",
  "-n",
  "",
  "*",
  "a | b && c || d > e < f",
];

/** Runs a rendered command through a real POSIX shell. */
async function shell(command: string): Promise<string> {
  const { stdout } = await run("/bin/sh", ["-c", command]);
  return stdout;
}

describe("renderConfig with x-encoding shell", () => {
  it.each(HOSTILE)("passes %j to the shell as one argument", async (value) => {
    const config = { command: "printf '%s' ${params.value}" };
    const rendered = renderConfig(config, shellSchema, context({ value }));
    expect(await shell(String(rendered.command))).toBe(value);
  });

  it("passes several hostile values as separate arguments", async () => {
    const config = { command: "printf '[%s]' ${params.a} ${params.b}" };
    const params = { a: "x y; $(id)", b: "'q'" };
    const rendered = renderConfig(config, shellSchema, context(params));
    expect(await shell(String(rendered.command))).toBe("[x y; $(id)]['q']");
  });

  it("writes numbers and booleans as words, lists and objects as JSON", async () => {
    const config = {
      command: "printf '%s|' ${params.n} ${params.ok} ${params.l} ${params.o}",
    };
    const params = { n: 7, ok: true, l: [1, "a b"], o: { k: "v'" } };
    const rendered = renderConfig(config, shellSchema, context(params));
    expect(rendered.command).toBe(
      `printf '%s|' 7 true '[1,"a b"]' '{"k":"v'\\''"}'`,
    );
    expect(await shell(String(rendered.command))).toBe(
      '7|true|[1,"a b"]|{"k":"v\'"}|',
    );
  });

  it("quotes even a sole template in a shell field", () => {
    const rendered = renderConfig(
      { command: "${params.n}" },
      shellSchema,
      context({ n: "rm -rf /" }),
    );
    expect(rendered.command).toBe("'rm -rf /'");
  });

  it("follows x-encoding into list items", async () => {
    const schema: ConfigSchema = {
      type: "object",
      properties: {
        args: {
          type: "array",
          items: { type: "string", "x-encoding": "shell" },
        },
      },
    };
    const rendered = renderConfig(
      { args: ["printf '%s' ${params.v}"] },
      schema,
      context({ v: "$(id)" }),
    );
    expect(await shell(String((rendered.args as string[])[0]))).toBe("$(id)");
  });

  it("refuses a NUL character, which no shell argument can hold", () => {
    expect(() =>
      renderConfig(
        { command: "echo ${params.v}" },
        shellSchema,
        context({ v: "a\u0000b" }),
      ),
    ).toThrow(/NUL/);
  });
});

describe("shellQuote", () => {
  it("wraps in single quotes and escapes single quotes", () => {
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("a'b")).toBe("'a'\\''b'");
  });
});

describe("renderConfig with x-encoding url", () => {
  it("percent-encodes each value", () => {
    const rendered = renderConfig(
      { url: "http://127.0.0.1:8080/search?q=${params.q}&page=${params.p}" },
      httpSchema,
      context({ q: "a b&c=d/é?#", p: 2 }),
    );
    expect(rendered.url).toBe(
      "http://127.0.0.1:8080/search?q=a%20b%26c%3Dd%2F%C3%A9%3F%23&page=2",
    );
    const url = new URL(String(rendered.url));
    expect(url.searchParams.get("q")).toBe("a b&c=d/é?#");
  });

  it("takes a field that is one template as the whole URL, unencoded", () => {
    const rendered = renderConfig(
      { url: "${params.endpoint}" },
      httpSchema,
      context({ endpoint: "http://127.0.0.1:9/a?b=c" }),
    );
    expect(rendered.url).toBe("http://127.0.0.1:9/a?b=c");
  });

  it("reports a lone surrogate, which has no URL form", () => {
    expect(() =>
      renderConfig(
        { url: "http://127.0.0.1/${params.q}" },
        httpSchema,
        context({ q: "\ud800" }),
      ),
    ).toThrow(TemplateError);
  });
});

describe("renderConfig without an encoding", () => {
  const schema: ConfigSchema = { type: "object" };

  it("keeps the type of a sole template", () => {
    const rendered = renderConfig(
      {
        count: "${params.n}",
        files: "${tasks.extract.output.files}",
        output: "${tasks.extract.output}",
        flag: "${params.n > 1}",
        nothing: "${null}",
        half: "${params.f}",
        bare: "${n}",
      },
      schema,
      context({ n: 3, f: 0.5 }),
    );
    expect(rendered).toEqual({
      count: 3,
      files: ["a.csv", "b.csv"],
      output: { rows: 42, files: ["a.csv", "b.csv"] },
      flag: true,
      nothing: null,
      half: 0.5,
      bare: 3,
    });
  });

  it("writes values into text, lists and objects as JSON", () => {
    const rendered = renderConfig(
      {
        message:
          "rows=${tasks.extract.output.rows} files=${tasks.extract.output.files}",
        nested: { list: ["run ${run.id} attempt ${task.attempt}"] },
        literal: "cost: $${price} ${params.n}",
        untouched: 5,
      },
      schema,
      context({ n: 1 }),
    );
    expect(rendered).toEqual({
      message: 'rows=42 files=["a.csv","b.csv"]',
      nested: { list: ["run run-1 attempt 2"] },
      literal: "cost: ${price} 1",
      untouched: 5,
    });
  });

  it("reads a bare name as a param and evaluates real expressions", () => {
    const rendered = renderConfig(
      {
        file: "${input_file}.gz",
        sum: "${n + 1}",
        size: "${size(tasks.extract.output.files)}",
        map: "${ {'k': n} }",
      },
      schema,
      context({ input_file: "data", n: 4 }),
    );
    expect(rendered).toEqual({
      file: "data.gz",
      sum: 5,
      size: 2,
      map: { k: 4 },
    });
  });

  it("keeps a __proto__ key as a plain key", () => {
    const config = JSON.parse('{"__proto__": {"x": "${params.n}"}}');
    const rendered = renderConfig(config, schema, context({ n: 2 }));
    expect(Object.keys(rendered)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(rendered)).toBe(Object.prototype);
    expect(
      Object.getOwnPropertyDescriptor(rendered, "__proto__")?.value,
    ).toEqual({ x: 2 });
  });

  it("throws a TemplateError naming the field", () => {
    const attempt = () =>
      renderConfig({ deep: { x: ["${params.missing}"] } }, schema, context({}));
    expect(attempt).toThrow(TemplateError);
    try {
      attempt();
    } catch (error) {
      expect((error as TemplateError).field).toBe("config.deep.x[0]");
    }
    expect(() => renderConfig({ a: "${1 +}" }, schema, context({}))).toThrow(
      /does not parse/,
    );
    expect(() => renderConfig({ a: "${x" }, schema, context({}))).toThrow(
      /not closed/,
    );
  });
});

describe("renderConfig with x-encoding bind", () => {
  const schema: ConfigSchema = {
    type: "object",
    properties: {
      query: { type: "string", "x-encoding": "bind" },
      note: { type: "string" },
    },
  };

  it("leaves a bind field as written for the plugin to bind", () => {
    const query = "select * from t where name = ${params.name}";
    const rendered = renderConfig(
      { query, note: "for ${params.name}" },
      schema,
      context({ name: "' OR 1=1 --" }),
    );
    expect(rendered).toEqual({ query, note: "for ' OR 1=1 --" });
  });
});
