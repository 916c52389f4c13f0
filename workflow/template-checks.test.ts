import { describe, expect, it } from "vitest";
import type { JsonObject } from "../plugin-sdk/index.js";
import { echo, problemsOf, validate, workflow } from "./test-support.js";

describe("template and condition checks", () => {
  const upstreamWorkflow = (tasks: unknown[]) => ({
    name: "wf",
    params: { date: "2026-12-01" },
    tasks: [echo("extract"), echo("other"), ...tasks],
  });

  it("accepts references to upstream tasks and declared params", () => {
    const { problems } = validate(
      upstreamWorkflow([
        echo("mid", { depends_on: ["extract"] }),
        echo("load", {
          depends_on: ["mid"],
          command:
            "load ${tasks.extract.output.file} ${tasks['mid'].exit_code} ${date} ${params.date} ${run.id} ${task.attempt}",
          condition:
            "tasks.extract.status == 'SUCCESS' && has(params.optional)",
        }),
      ]),
    );
    expect(problems).toEqual([]);
  });

  it("reports functions CEL does not have, and accepts those it does", () => {
    const problems = problemsOf(
      upstreamWorkflow([
        echo("fan", {
          depends_on: ["extract"],
          for_each: "${range(0, 40)}",
          command:
            "echo ${item} ${string(size(tasks.extract.output.files)) + 'x'.upperAscii()}",
          condition:
            "tasks.extract.output.files.all(f, f.startsWith('a') ? true : f[0] == 'b') && now() > timestamp('2020-01-01T00:00:00Z')",
        }),
      ]),
    );
    expect(problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      'config.command: CEL has no function "upperAscii" here',
      'for_each: CEL has no function "range" here',
    ]);
  });

  it("reports a method called as a function and a function called as a method", () => {
    const problems = problemsOf(
      upstreamWorkflow([
        echo("check", {
          depends_on: ["extract"],
          command: "echo ${tasks.extract.output.files.size()}",
          condition:
            "matches(tasks.extract.status, '^S') && tasks.extract.status.int() > 0 && size(tasks.extract.output.files) > 0",
        }),
      ]),
    );
    expect(problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      "condition: CEL's matches is a method: write x.matches(...), not matches(x, ...)",
      "condition: CEL's int is a function, not a method: write int(x, ...), not x.int(...)",
    ]);
  });

  it("reports tasks that are missing or not upstream", () => {
    const problems = problemsOf(
      upstreamWorkflow([
        echo("load", {
          depends_on: ["extract"],
          command:
            "load ${tasks.other.output.x} ${tasks.ghost.status} ${tasks.load.output}",
          condition: "tasks.other.output.rows > 0",
        }),
      ]),
    );
    expect(problems.map((p) => `${p.taskId} ${p.field}: ${p.message}`)).toEqual(
      [
        "load config.command: task load reads tasks.other.output but other is not upstream of load",
        'load config.command: task load reads tasks.ghost.status but there is no task "ghost"',
        "load config.command: task load reads tasks.load.output but load is not upstream of load",
        "load condition: task load reads tasks.other.output but other is not upstream of load",
      ],
    );
  });

  it("hints at tasks['id'] for ids that are not CEL names", () => {
    const problems = problemsOf({
      name: "wf",
      tasks: [
        echo("my-task"),
        echo("b", {
          depends_on: ["my-task"],
          command: "x ${tasks.my-task.output}",
        }),
      ],
    });
    expect(problems[0]?.message).toBe(
      `task b reads tasks.my but there is no task "my" (for the task "my-task" write tasks['my-task'])`,
    );
  });

  it("reports params that are neither declared nor given by the run", () => {
    const doc = {
      name: "wf",
      params: { date: "x" },
      tasks: [
        echo("a", { command: "x ${params.day} ${nope} ${params['other']}" }),
      ],
    };
    expect(problemsOf(doc).map((p) => p.message)).toEqual([
      'param "day" is not declared in params (declared: date)',
      'param "nope" is not declared in params (declared: date)',
      'param "other" is not declared in params (declared: date)',
    ]);
  });

  it("reports run params that the workflow does not declare", () => {
    const doc = { name: "wf", params: { date: "x" }, tasks: [echo("a")] };
    expect(validate(doc, { date: "y" }).problems).toEqual([]);
    expect(problemsOf(doc, { date: "y", region: "eu" })).toEqual([
      {
        taskId: "",
        field: "params.region",
        message: `param "region" is not declared in the workflow's params`,
      },
    ]);
  });

  it("reports templates that do not parse, and item outside for_each", () => {
    const problems = problemsOf(
      workflow(
        echo("a", { command: "x ${1 +} ${secrets.TOKEN} ${item} y ${params" }),
      ),
    );
    expect(problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      'config.command: template at column 37 is not closed: "${params"',
    ]);
    const more = problemsOf(
      workflow(echo("a", { command: "x ${1 +} ${secrets.TOKEN} ${item}" })),
    );
    expect(more.map((p) => p.message)).toEqual([
      'expression "1 +" does not parse: 1:3: found + but expecting end of input',
      '"item" is defined only in a task with for_each',
    ]);
  });

  it("reads tasks[...] with a computed id as a problem", () => {
    const problems = problemsOf({
      name: "wf",
      params: { which: "a" },
      tasks: [
        echo("a"),
        echo("b", {
          depends_on: ["a"],
          command: "${tasks[params.which].output}",
        }),
      ],
    });
    expect(problems[0]?.message).toMatch(
      /reads tasks\[\.\.\.\]\.output: name the task/,
    );
  });

  it("leaves $${ alone", () => {
    const { problems } = validate(
      workflow(echo("a", { command: "echo $${HOME} $${tasks.ghost}" })),
    );
    expect(problems).toEqual([]);
  });

  describe("in a shell command", () => {
    const shellTask = (command: string, extra = {}) =>
      workflow(echo("a", { command, ...extra }));
    const withParams = (doc: JsonObject) => ({ ...doc, params: { v: "" } });

    it("accepts templates unquoted, in either quotes and in comments", () => {
      const command =
        "printf '%s' ${params.v} \"pre ${v}\" 'pre ${v}' " +
        '"$(echo ${v})" # ${v}';
      expect(validate(withParams(shellTask(command))).problems).toEqual([]);
    });

    it("reports a quote left open, naming task and field", () => {
      const problems = problemsOf(withParams(shellTask('echo "${v} > out')));
      expect(problems).toEqual([
        {
          taskId: "a",
          field: "config.command",
          message: 'the command is incomplete: a " is not closed',
        },
      ]);
    });

    it("reports a template in a here-document body", () => {
      const command = "cat <<EOF > out\nvalue: ${v}\nEOF";
      const problems = problemsOf(withParams(shellTask(command)));
      expect(problems).toEqual([
        {
          taskId: "a",
          field: "config.command",
          message: expect.stringMatching(
            /^the template \$\{v\} stands in a here-document body/,
          ),
        },
      ]);
    });

    it("leaves plain commands alone, and refuses templates where none are rendered", () => {
      expect(validate(withParams(shellTask("echo it's"))).problems).toEqual([]);
      const doc = shellTask("echo it's", {
        env: { NOTE: "it's ${params.v}" },
      });
      expect(validate(withParams(doc)).problems).toEqual([
        {
          taskId: "a",
          field: "env.NOTE",
          message: "templates are not rendered here; write the value itself",
        },
      ]);
    });
  });
});
