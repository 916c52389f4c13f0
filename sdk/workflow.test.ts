import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseDefinitionText } from "../workflow/index.js";
import { condition } from "./condition.js";
import { forEach } from "./for-each.js";
import { item, params, ref, secret } from "./ref.js";
import { SdkError } from "./sdk-error.js";
import { Task } from "./task.js";
import { HttpTask } from "./tasks/http-task.js";
import { NoopTask } from "./tasks/noop-task.js";
import { PythonTask } from "./tasks/python-task.js";
import { ShellTask } from "./tasks/shell-task.js";
import { SqlTask } from "./tasks/sql-task.js";
import { Workflow } from "./workflow.js";

/** The definition `yaml` parses to, as the control plane reads it. */
function parsed(yaml: string): unknown {
  const result = parseDefinitionText(yaml);
  expect(result.problems).toEqual([]);
  return result.document;
}

/** Asserts equal JSON text: equal values and equal key order. */
function expectSameJson(actual: unknown, expected: unknown): void {
  expect(JSON.stringify(actual, null, 1)).toBe(
    JSON.stringify(expected, null, 1),
  );
}

function thrown(fn: () => unknown): SdkError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SdkError);
    return error as SdkError;
  }
  throw new Error("expected an SdkError");
}

describe("Workflow.toDefinition", () => {
  it("writes the YAML parser's document, keys in the same order", () => {
    const wf = new Workflow({
      name: "fan",
      params: { files: ["a.csv", "b.csv"], date: "2026-12-01" },
      defaults: { retries: 2, timeout: 60 },
      concurrency: 2,
    });
    const list = wf.task(
      new ShellTask("list", "ls", { node_selector: { pool: "etl" } }),
    );
    wf.add(
      new ShellTask("process", `process ${item} --date ${params.date}`, {
        depends_on: [list],
        for_each: ref(list).output.files,
        priority: 5,
      }),
      new Task("plan_more", "gen", { count: 3 }, { dynamic: true }),
      new SqlTask(
        "load",
        { connection: secret("WAREHOUSE_URL"), query: "select 1" },
        {
          depends_on: ["process", "plan_more"],
          condition: condition`${ref(list).output.count} > ${0}`,
          trigger_rule: "none_failed",
          secrets: { WAREHOUSE_URL: "warehouse-url" },
          retry: { max_attempts: 3, backoff: "linear" },
        },
      ),
    );
    const yaml = `
name: fan
params:
  files: [a.csv, b.csv]
  date: "2026-12-01"
defaults: { retries: 2, timeout: 60 }
concurrency: 2
tasks:
  - id: list
    type: shell
    node_selector: { pool: etl }
    config: { command: ls }
  - id: process
    type: shell
    depends_on: [list]
    for_each: \${tasks.list.output.files}
    priority: 5
    config:
      command: process \${item} --date \${params.date}
  - id: plan_more
    type: gen
    dynamic: true
    config: { count: 3 }
  - id: load
    type: sql
    depends_on: [process, plan_more]
    condition: tasks.list.output.count > 0
    trigger_rule: none_failed
    retry: { max_attempts: 3, backoff: linear }
    secrets: { WAREHOUSE_URL: warehouse-url }
    config:
      connection: \${secrets.WAREHOUSE_URL}
      query: select 1
`;
    expectSameJson(wf.toDefinition(), parsed(yaml));
  });

  it("leaves out what was not set, and config when it is empty", () => {
    const wf = new Workflow({ name: "small", description: undefined });
    wf.add(
      new NoopTask("wait"),
      new ShellTask(
        "echo",
        { command: "echo", shell: undefined },
        {
          depends_on: [],
          timeout: undefined,
        },
      ),
    );
    expectSameJson(wf.toDefinition(), {
      name: "small",
      tasks: [
        { id: "wait", type: "noop" },
        { id: "echo", type: "shell", config: { command: "echo" } },
      ],
    });
  });

  it("keeps defaults in the order written, like a parser", () => {
    const wf = new Workflow({
      name: "d",
      defaults: { trigger_rule: "all_done", env: { A: "1" }, timeout: 5 },
    });
    wf.add(new NoopTask("n"));
    expectSameJson(
      wf.toDefinition(),
      parsed(
        "name: d\ndefaults: { trigger_rule: all_done, env: { A: '1' }, " +
          "timeout: 5 }\ntasks: [{ id: n, type: noop }]\n",
      ),
    );
  });

  it("returns a copy: changing it changes nothing built", () => {
    const wf = new Workflow({ name: "copy", params: { list: [1] } });
    wf.add(new HttpTask("get", { url: "http://127.0.0.1/x" }));
    const first = wf.toDefinition();
    (first.params as { list: number[] }).list.push(2);
    (first.tasks[0] as unknown as { config: { url: string } }).config.url =
      "changed";
    expect(wf.toDefinition().params).toEqual({ list: [1] });
    expect(wf.toDefinition().tasks[0]?.config).toEqual({
      url: "http://127.0.0.1/x",
    });
  });

  it("serializes through toJSON and toYAML to the same document", () => {
    const hostile = [
      "it's; rm -rf / $(id) `id`",
      "yes",
      "null",
      "~",
      "0x10",
      "0o17",
      "1_000",
      "on",
      "Off",
      "1:20",
      "3.5e3",
      "2026-12-01",
      "- not a list",
      "key: value # comment",
      "  leading and trailing  ",
      "line one\nline two\n",
      "ünïcødé ✓ \u2028",
      "$${literal} and ${params.x}",
      "",
    ];
    const wf = new Workflow({ name: "hostile", params: { values: hostile } });
    hostile.forEach((text, i) => {
      wf.add(
        new ShellTask(`t${i}`, { command: text || "true", env: { V: text } }),
      );
    });
    const definition = wf.toDefinition();
    expect(JSON.parse(JSON.stringify(wf))).toEqual(definition);
    expectSameJson(parsed(wf.toYAML()), definition);
    // YAML 1.1 readers (PyYAML and the like) read the same values.
    expect(parseYaml(wf.toYAML(), { version: "1.1" })).toEqual(definition);
    expect(wf.toYAML()).toContain('- "yes"');
  });
});

describe("building a workflow", () => {
  it("refuses a task whose dependency is not in the workflow yet", () => {
    const wf = new Workflow({ name: "w" });
    const error = thrown(() =>
      wf.add(new ShellTask("load", "x", { depends_on: ["extract"] })),
    );
    expect(error.code).toBe("invalid_workflow");
    expect(error.field).toBe("tasks[0].depends_on[0]");
    expect(error.message).toBe(
      'workflow "w": task "load" depends_on[0]: "extract" is not in the ' +
        "workflow (add a task before the tasks that depend on it)",
    );
  });

  it("refuses a duplicate id", () => {
    const wf = new Workflow({ name: "w" }).add(new ShellTask("a", "x"));
    const error = thrown(() => wf.add(new ShellTask("a", "y")));
    expect(error.message).toBe('workflow "w": task "a" id: duplicate task id');
    expect(error.field).toBe("tasks[1].id");
  });

  it("refuses a dependency object that is not the one in the workflow", () => {
    const wf = new Workflow({ name: "w" }).add(new ShellTask("a", "x"));
    const stranger = new ShellTask("a", "other");
    const error = thrown(() =>
      wf.add(new ShellTask("b", "y", { depends_on: [stranger] })),
    );
    expect(error.message).toContain("different task object");
  });

  it("cannot make a cycle: a task depends only on earlier ones", () => {
    const error = thrown(() => new ShellTask("a", "x", { depends_on: ["a"] }));
    expect(error.message).toBe(
      'task "a" depends_on[0]: a task cannot depend on itself',
    );
  });

  it("refuses an empty workflow when asked for its definition", () => {
    const error = thrown(() => new Workflow({ name: "w" }).toDefinition());
    expect(error.message).toBe(
      'workflow "w" tasks: a workflow needs at least one task',
    );
  });

  it("names the field of a bad workflow option", () => {
    expect(thrown(() => new Workflow({ name: "a b" })).message).toBe(
      'workflow "a b" name: "a b" may contain only letters, digits, "_", ' +
        '"." and "-"',
    );
    expect(
      thrown(() => new Workflow({ name: "w", concurrency: 0 })).field,
    ).toBe("concurrency");
    expect(
      thrown(() => new Workflow({ name: "w", defaults: { nope: 1 } as never }))
        .field,
    ).toBe("defaults.nope");
    expect(
      thrown(
        () =>
          new Workflow({ name: "w", params: { when: new Date() } as never }),
      ).message,
    ).toBe('workflow "w" params.when: must be plain JSON data, not a Date');
    expect(
      thrown(() => new Workflow({ name: "w", tasks: [] } as never)).field,
    ).toBe("tasks");
  });

  it("names the field of a bad task option", () => {
    const cases: [() => unknown, string, string][] = [
      [() => new ShellTask("x y", "true"), "id", "may contain only"],
      [() => new ShellTask("a", "true", { timeout: 0 }), "timeout", "positive"],
      [
        () => new ShellTask("a", "true", { retries: 1, retry: {} }),
        "retries",
        "either retries or retry",
      ],
      [
        () => new ShellTask("a", "true", { trigger_rule: "always" as never }),
        "trigger_rule",
        "one of all_success",
      ],
      [
        () => new ShellTask("a", "true", { env: { "1X": "v" } }),
        "env.1X",
        "environment variable",
      ],
      [
        () => new ShellTask("a", "true", { lost_after: 5 }),
        "lost_after",
        "keep_running",
      ],
      [
        () => new ShellTask("a", "true", { for_each: {} as never }),
        "for_each",
        "an expression, a template or a list",
      ],
      [
        () => new ShellTask("a", "true", { condition: " " }),
        "condition",
        "must not be empty",
      ],
      [
        () => new ShellTask("a", "true", { secrets: { S: 3 as never } }),
        "secrets.S",
        "provider",
      ],
      [
        () => new ShellTask("a", "true", { retires: 1 } as never),
        "retires",
        "unknown task option",
      ],
      [
        () =>
          new ShellTask("a", { command: "x", env: { A: Number.NaN } as never }),
        "config.env.A",
        "finite number",
      ],
      [() => new Task("a", "Bad Type", {}), "type", "not a task type name"],
      [
        () =>
          new ShellTask("a", "true", {
            affinity: [
              { key: "gpu_count", operator: "Gt", values: ["1", "2"] },
            ],
          }),
        "affinity[0].values",
        "Gt takes exactly one integer value",
      ],
    ];
    for (const [make, field, words] of cases) {
      const error = thrown(make);
      expect(error.field, error.message).toBe(field);
      expect(error.message).toContain(words);
      expect(error.message).toContain(`${field}:`);
    }
  });

  it("writes affinity as the control plane reads it, also in defaults", () => {
    const spot = [{ key: "spot", operator: "DoesNotExist" as const }];
    const wf = new Workflow({ name: "w", defaults: { affinity: spot } });
    wf.task(
      new ShellTask("train", "train", {
        affinity: [
          { key: "gpu_count", operator: "Gt", values: [1 as never] },
          { key: "zone", operator: "In", values: ["eu-1"] },
        ],
      }),
    );
    const definition = wf.toDefinition();
    expect(definition.defaults?.affinity).toEqual(spot);
    expect(definition.tasks[0]?.affinity).toEqual([
      { key: "gpu_count", operator: "Gt", values: ["1"] },
      { key: "zone", operator: "In", values: ["eu-1"] },
    ]);
    expect(
      thrown(
        () =>
          new Workflow({
            name: "w",
            defaults: { affinity: [{ key: "", operator: "Exists" }] },
          }),
      ).field,
    ).toBe("defaults.affinity[0].key");
  });

  it("hands back the task it adds, typed, for later references", () => {
    const wf = new Workflow({ name: "w" });
    const stats = wf.task(
      new PythonTask("stats", { script: "s.py", function: "f", args: [1] }),
    );
    const custom = wf.task(
      "custom",
      "my_type",
      { a: ref(stats).output.x },
      { depends_on: [stats] },
    );
    expect(stats.config.function).toBe("f");
    expect(custom.type).toBe("my_type");
    expect(wf.tasks.map((t) => t.id)).toEqual(["stats", "custom"]);
    expect(wf.toDefinition().tasks[1]?.config).toEqual({
      a: "${tasks.stats.output.x}",
    });
  });

  it("takes for_each as a list, a template or CEL text", () => {
    const shapes = [
      forEach([1, 2]),
      forEach("${params.files}"),
      forEach("params.files"),
      forEach`${params.files}.filter(f, f != ${""})`,
    ];
    expect(shapes).toEqual([
      [1, 2],
      "${params.files}",
      "${params.files}",
      '${params.files.filter(f, f != "")}',
    ]);
  });
});
