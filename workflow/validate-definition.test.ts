import { describe, expect, it } from "vitest";
import { parseDefinitionText } from "./parse-definition-text.js";
import { resourceRequest } from "./resource-request.js";
import { echo, problemsOf, validate, workflow } from "./test-support.js";
import { MAX_FOR_EACH_ITEMS } from "./workflow-definition.js";

describe("validateDefinition: the graph", () => {
  it("reports a cycle, an unknown dependency, a duplicate id and an unknown type together", () => {
    const problems = problemsOf(
      workflow(
        echo("a", { depends_on: ["c"] }),
        echo("b", { depends_on: ["a"] }),
        echo("c", { depends_on: ["b"] }),
        echo("d", { depends_on: ["ghost"] }),
        echo("e"),
        echo("e"),
        { id: "f", type: "teleport", command: "x" },
      ),
    );
    expect(problems).toEqual([
      {
        taskId: "f",
        field: "type",
        message: 'unknown task type "teleport" (known: http, shell)',
      },
      {
        taskId: "e",
        field: "id",
        message: 'duplicate task id "e" (tasks[4], tasks[5])',
      },
      { taskId: "d", field: "depends_on[0]", message: 'unknown task "ghost"' },
      {
        taskId: "a",
        field: "depends_on",
        message: "dependency cycle: a -> b -> c -> a",
      },
    ]);
  });

  it("reports a dependency listed twice, naming the repeat", () => {
    expect(
      problemsOf(
        workflow(echo("a"), echo("b", { depends_on: ["a", "ghost", "a"] })),
      ),
    ).toEqual([
      {
        taskId: "b",
        field: "depends_on[2]",
        message: '"a" is already listed at depends_on[0]',
      },
      { taskId: "b", field: "depends_on[1]", message: 'unknown task "ghost"' },
    ]);
  });

  it("names a number too large for a double as Infinity, not null", () => {
    for (const text of [
      '{"name":"wf","tasks":[{"id":"a","type":"shell","command":"true","timeout":1e400}]}',
      'name: wf\ntasks:\n  - {id: a, type: shell, command: "true", timeout: .inf}\n',
    ]) {
      const parsed = parseDefinitionText(text);
      expect(problemsOf(parsed.document)).toEqual([
        {
          taskId: "a",
          field: "timeout",
          message: "must be a positive number of seconds, not Infinity",
        },
      ]);
    }
  });

  it("reports a task that depends on itself", () => {
    expect(problemsOf(workflow(echo("a", { depends_on: ["a"] })))).toEqual([
      { taskId: "a", field: "depends_on", message: "dependency cycle: a -> a" },
    ]);
  });
});

const YAML_TEXT = `
name: nightly-etl
description: Loads the warehouse
params: { date: "2026-12-01", files: [] }
defaults:
  timeout: 600
  retry: { max_attempts: 3, backoff: exponential }
  node_selector: { gpu: true }
concurrency: 8
timeout: 3600
tasks:
  - id: extract
    type: shell
    command: "extract --date \${params.date}"
    env: { DEBUG: 1 }
  - id: load
    name: Load rows
    type: http
    depends_on: [extract]
    condition: "tasks.extract.output.rows > 0"
    trigger_rule: all_done
    url: "http://127.0.0.1:9/load?date=\${date}"
    config: { method: POST }
    retries: 0
    priority: 5
    node_selector: { zone: eu-1, cores: 8 }
    labels: { team: data }
    resources: { cpu: "500m", memory: 4Gi, gpu: { count: 1, type: h100 } }
`;

const JSON_TEXT = JSON.stringify({
  name: "nightly-etl",
  description: "Loads the warehouse",
  params: { date: "2026-12-01", files: [] },
  defaults: {
    timeout: 600,
    retry: { max_attempts: 3, backoff: "exponential" },
    node_selector: { gpu: true },
  },
  concurrency: 8,
  timeout: 3600,
  tasks: [
    {
      id: "extract",
      type: "shell",
      command: "extract --date ${params.date}",
      env: { DEBUG: 1 },
    },
    {
      id: "load",
      name: "Load rows",
      type: "http",
      depends_on: ["extract"],
      condition: "tasks.extract.output.rows > 0",
      trigger_rule: "all_done",
      url: "http://127.0.0.1:9/load?date=${date}",
      config: { method: "POST" },
      retries: 0,
      priority: 5,
      node_selector: { zone: "eu-1", cores: 8 },
      labels: { team: "data" },
      resources: {
        cpu: "500m",
        memory: "4Gi",
        gpu: { count: 1, type: "h100" },
      },
    },
  ],
});

describe("validateDefinition: normalization", () => {
  it("normalizes YAML and JSON of one workflow identically", () => {
    const fromYaml = validate(parseDefinitionText(YAML_TEXT).document);
    const fromJson = validate(parseDefinitionText(JSON_TEXT).document);
    expect(fromYaml.problems).toEqual([]);
    expect(fromJson).toEqual(fromYaml);
    expect(fromYaml.definition).toEqual({
      name: "nightly-etl",
      description: "Loads the warehouse",
      params: { date: "2026-12-01", files: [] },
      defaults: {
        timeout: 600,
        retry: { max_attempts: 3, backoff: "exponential" },
        node_selector: { gpu: "true" },
      },
      concurrency: 8,
      timeout: 3600,
      tasks: [
        {
          id: "extract",
          type: "shell",
          depends_on: [],
          config: { command: "extract --date ${params.date}" },
          env: { DEBUG: "1" },
          node_selector: { gpu: "true" },
          priority: 0,
          timeout: 600,
          retry: { max_attempts: 3, backoff: "exponential" },
        },
        {
          id: "load",
          name: "Load rows",
          type: "http",
          depends_on: ["extract"],
          condition: "tasks.extract.output.rows > 0",
          trigger_rule: "all_done",
          config: {
            method: "POST",
            url: "http://127.0.0.1:9/load?date=${date}",
          },
          retries: 0,
          priority: 5,
          node_selector: { zone: "eu-1", cores: "8" },
          labels: { team: "data" },
          resources: {
            cpu: "500m",
            memory: "4Gi",
            gpu: { count: 1, type: "h100" },
          },
          timeout: 600,
        },
      ],
    });
  });

  it("copies defaults, so tasks never share one object", () => {
    const { definition } = validate({
      name: "wf",
      defaults: { env: { A: "1" } },
      tasks: [echo("a"), echo("b")],
    });
    expect(definition?.tasks[0]?.env).toEqual({ A: "1" });
    expect(definition?.tasks[0]?.env).not.toBe(definition?.tasks[1]?.env);
  });
});

describe("validateDefinition: shorthand", () => {
  it("moves a type's config keys into config", () => {
    const { definition } = validate(
      workflow({
        id: "step1",
        type: "shell",
        command: "echo hi",
        capture_output: true,
      }),
    );
    expect(definition?.tasks[0]?.config).toEqual({
      command: "echo hi",
      capture_output: true,
    });
  });

  it("reports a key set both on the task and in config", () => {
    const problems = problemsOf(
      workflow({
        id: "a",
        type: "shell",
        command: "x",
        config: { command: "y" },
      }),
    );
    expect(problems).toEqual([
      {
        taskId: "a",
        field: "command",
        message: '"command" is set both on the task and in config',
      },
    ]);
  });

  it("reports unknown fields, and keeps task fields for the task", () => {
    const problems = problemsOf(
      workflow(
        { id: "a", type: "shell", command: "x", comand: "typo" },
        // http's config has `timeout` too; on the task it is the task's.
        { id: "b", type: "http", url: "http://127.0.0.1:9/", timeout: "soon" },
      ),
    );
    expect(problems).toEqual([
      { taskId: "a", field: "comand", message: 'unknown field "comand"' },
      {
        taskId: "b",
        field: "timeout",
        message: 'must be a positive number of seconds, not "soon"',
      },
    ]);
  });

  it("bounds the seconds that travel to agents as 32-bit milliseconds", () => {
    const problems = problemsOf(
      workflow(
        { id: "a", type: "shell", command: "x", timeout: 2_147_484 },
        {
          id: "b",
          type: "shell",
          command: "x",
          on_agent_disconnect: "keep_running",
          lost_after: 3_000_000,
        },
        { id: "c", type: "shell", command: "x", timeout: 2_147_483 },
      ),
    );
    expect(problems).toEqual([
      {
        taskId: "a",
        field: "timeout",
        message: "must be at most 2147483 seconds (about 24 days), not 2147484",
      },
      {
        taskId: "b",
        field: "lost_after",
        message: "must be at most 2147483 seconds (about 24 days), not 3000000",
      },
    ]);
  });

  it("bounds a run's timeout at ten years, a deadline PostgreSQL can store", () => {
    // 1e15 s overflowed the deadline's timestamp: every sweep of every
    // replica failed while such a run was unfinished.
    for (const timeout of [315_576_001, 1e15]) {
      expect(problemsOf({ ...workflow(echo("a")), timeout })).toEqual([
        {
          taskId: "",
          field: "timeout",
          message: `must be at most 315576000 seconds (ten years; leave it out for no timeout), not ${timeout}`,
        },
      ]);
    }
    expect(
      validate({ ...workflow(echo("a")), timeout: 315_576_000 }).definition
        ?.timeout,
    ).toBe(315_576_000);
  });

  it("bounds integers by what their 32-bit columns hold, naming the field", () => {
    // Each of these failed the run's insert as an internal error.
    const problems = problemsOf({
      ...workflow(
        echo("a", { retries: 2_147_483_647 }),
        echo("b", { retry: { max_attempts: 3e9 } }),
        echo("c", { priority: 3e9 }),
        echo("d", { priority: -3e9 }),
      ),
      concurrency: 2 ** 31,
    });
    expect(problems).toEqual([
      {
        taskId: "",
        field: "concurrency",
        message: "must be at most 2147483647, not 2147483648",
      },
      {
        taskId: "a",
        field: "retries",
        message: "must be at most 999999, not 2147483647",
      },
      {
        taskId: "b",
        field: "retry.max_attempts",
        message: "must be at most 1000000, not 3000000000",
      },
      {
        taskId: "c",
        field: "priority",
        message: "must be from -2147483647 to 2147483647, not 3000000000",
      },
      {
        taskId: "d",
        field: "priority",
        message: "must be from -2147483647 to 2147483647, not -3000000000",
      },
    ]);
    const ok = validate(
      workflow(
        echo("a", { retries: 999_999 }),
        echo("b", { priority: -2_147_483_647 }),
      ),
    );
    expect(ok.problems).toEqual([]);
  });

  it("bounds a workflow name and a task id at 200 characters", () => {
    const long = "x".repeat(201);
    expect(problemsOf({ name: long, tasks: [echo(long)] })).toEqual([
      {
        taskId: "",
        field: "name",
        message: "must be at most 200 characters, not 201",
      },
      {
        taskId: "",
        field: "tasks[0].id",
        message: "must be at most 200 characters, not 201",
      },
    ]);
    const longest = "y".repeat(200);
    expect(
      validate({ name: longest, tasks: [echo(longest)] }).problems,
    ).toEqual([]);
  });

  it("reads CEL's type names in a condition as types, not params", () => {
    const result = validate({
      name: "wf",
      params: { n: 1 },
      tasks: [
        echo("a", {
          condition:
            "type(params.n) == int || type(params.n) in [double, string, list, map, null_type]",
        }),
      ],
    });
    expect(result.problems).toEqual([]);
    const unknown = problemsOf(
      workflow(echo("a", { condition: "type(1) == integer" })),
    );
    expect(unknown.map((p) => p.message)).toEqual([
      'param "integer" is not declared in params (declared: none)',
    ]);
  });

  it("reports for_each with dynamic", () => {
    const problems = problemsOf(
      workflow(
        echo("a", {
          for_each: "${params.files}",
          dynamic: true,
        }),
      ),
    );
    expect(problems.map((p) => `${p.taskId} ${p.field}: ${p.message}`)).toEqual(
      [
        'a for_each: param "files" is not declared in params (declared: none)',
        "a dynamic: a task cannot have both for_each and dynamic",
      ],
    );
  });

  it("refuses a for_each list longer than a run would expand", () => {
    const at = (n: number) =>
      workflow(
        echo("a", {
          command: "echo ${item}",
          for_each: Array.from({ length: n }, (_, i) => i),
        }),
      );
    expect(validate(at(MAX_FOR_EACH_ITEMS)).problems).toEqual([]);
    expect(problemsOf(at(MAX_FOR_EACH_ITEMS + 1))).toEqual([
      {
        taskId: "a",
        field: "for_each",
        message: "10001 items exceed the limit of 10000",
      },
    ]);
  });
});

describe("validateDefinition: top level", () => {
  it("requires a name and non-empty tasks and rejects unknown keys", () => {
    expect(problemsOf({ tasks: [], version: 2 })).toEqual([
      { taskId: "", field: "name", message: "is required" },
      {
        taskId: "",
        field: "version",
        message:
          'unknown field "version" (known: name, description, params, defaults, concurrency, timeout, tasks)',
      },
      {
        taskId: "",
        field: "tasks",
        message: "must be a non-empty list of tasks",
      },
    ]);
    expect(problemsOf({ name: "a" })).toEqual([
      { taskId: "", field: "tasks", message: "is required" },
    ]);
    expect(problemsOf("just text")).toEqual([
      {
        taskId: "",
        field: "",
        message: "a workflow definition must be an object, not a string",
      },
    ]);
  });

  it("checks name, params, concurrency, timeout and defaults", () => {
    const problems = problemsOf({
      name: "my flow!",
      params: [],
      concurrency: 0,
      timeout: -1,
      defaults: { retries: -1, id: "x", retry: {} },
      tasks: [echo("a")],
    });
    expect(problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      'name: "my flow!" may contain only letters, digits, "_", "." and "-"',
      "params: must be an object of param defaults, not a list",
      "concurrency: must be an integer >= 1, not 0",
      "timeout: must be a positive number of seconds, not -1",
      "defaults.retries: must be an integer >= 0, not -1",
      'defaults.id: unknown field "id" (defaults may set timeout, retries, retry, resources, node_selector, affinity, labels, env, priority, trigger_rule)',
      "defaults.retries: set either retries or retry, not both",
    ]);
  });

  it("applies retries and retry from defaults only to tasks that set neither", () => {
    const { definition } = validate({
      name: "wf",
      defaults: { retries: 2, priority: 1 },
      tasks: [
        echo("a"),
        echo("b", { retry: { max_attempts: 5 }, priority: 9 }),
      ],
    });
    expect(definition?.tasks[0]).toMatchObject({ retries: 2, priority: 1 });
    expect(definition?.tasks[1]?.retries).toBeUndefined();
    expect(definition?.tasks[1]).toMatchObject({
      retry: { max_attempts: 5 },
      priority: 9,
    });
  });
});

describe("validateDefinition: task fields", () => {
  it("names a task without a usable id by its position", () => {
    const problems = problemsOf(
      workflow(
        echo("a"),
        { type: "shell", command: "x" },
        { id: "b c", type: "nope" },
        42,
      ),
    );
    expect(problems).toEqual([
      { taskId: "", field: "tasks[1].id", message: "is required" },
      {
        taskId: "",
        field: "tasks[2].id",
        message: '"b c" may contain only letters, digits, "_", "." and "-"',
      },
      {
        taskId: "",
        field: "tasks[2].type",
        message: 'unknown task type "nope" (known: http, shell)',
      },
      {
        taskId: "",
        field: "tasks[3]",
        message: "must be an object, not a number",
      },
    ]);
  });

  it("checks every field's type and range", () => {
    const problems = problemsOf(
      workflow(
        {
          id: "a",
          name: 5,
          depends_on: "b",
          timeout: 0,
          retries: 1.5,
          priority: "high",
          trigger_rule: "sometimes",
          node_selector: { gpu: null, zone: ["a"] },
          labels: "x",
          env: { "BAD-NAME": "1", OK: true },
          condition: "tasks.a.output >",
          config: [],
        },
        echo("b", { retries: 1, retry: { max_attempts: 2 } }),
      ),
    );
    expect(problems.map((p) => `${p.taskId} ${p.field}: ${p.message}`)).toEqual(
      [
        "a type: is required",
        "a name: must be a string, not a number",
        "a depends_on: must be a list of task ids, not a string",
        "a timeout: must be a positive number of seconds, not 0",
        "a retries: must be an integer >= 0, not 1.5",
        'a priority: must be an integer, not "high"',
        'a trigger_rule: must be one of all_success, all_done, one_success, one_failed, none_failed, not "sometimes"',
        "a node_selector.gpu: must be a string, number or boolean",
        "a node_selector.zone: must be a string, number or boolean",
        "a labels: must be a map of names to values, not a string",
        'a env.BAD-NAME: key "BAD-NAME" is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)',
        "a config: must be an object, not a list",
        "b retries: set either retries or retry, not both",
        'a condition: expression "tasks.a.output >" does not parse: 1:16: found > but expecting end of input',
      ],
    );
  });

  it("checks a retry policy field by field", () => {
    const problems = problemsOf(
      workflow(
        echo("a", {
          retry: {
            max_attempts: 0,
            initial_delay: 10,
            max_delay: 5,
            backoff: "random",
            multiplier: 0,
            jitter: 2,
            retry_on: ["error", "exit_code:3", "exit_code:x", "teapot"],
            forever: true,
          },
        }),
      ),
    );
    expect(problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      "retry.max_attempts: must be an integer >= 1, not 0",
      'retry.backoff: must be one of fixed, linear, exponential, not "random"',
      "retry.multiplier: must be a number > 0, not 0",
      "retry.jitter: must be true, false or a fraction 0..1, not 2",
      'retry.retry_on[2]: unknown retry class "exit_code:x" (known: error, timeout, lost, 5xx, 429, exit_code:N)',
      'retry.retry_on[3]: unknown retry class "teapot" (known: error, timeout, lost, 5xx, 429, exit_code:N)',
      'retry.forever: unknown field "forever"',
      "retry.max_delay: must not be less than initial_delay",
    ]);
  });

  it("accepts a full retry policy", () => {
    const retry = {
      max_attempts: 4,
      initial_delay: 1,
      max_delay: 60,
      backoff: "linear",
      multiplier: 2,
      jitter: 0.2,
      retry_on: ["error", "timeout", "lost", "5xx", "429", "exit_code:75"],
    };
    const { definition } = validate(workflow(echo("a", { retry })));
    expect(definition?.tasks[0]?.retry).toEqual(retry);
  });

  it("checks resource quantities", () => {
    const problems = problemsOf(
      workflow(
        echo("a", {
          resources: {
            cpu: "lots",
            memory: "4GB",
            gpu: { count: 0, vendor: "x" },
            storage: { size: "100Gi", type: 3 },
            fpga: 1,
          },
        }),
        echo("b", {
          resources: { cpu: 2, memory: "1.5Gi", gpu: "2", storage: "1e3" },
        }),
      ),
    );
    expect(problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      'resources.cpu: "lots" is not a quantity (like "500m", "2", "4Gi")',
      'resources.memory: "4GB" is not a quantity (like "500m", "2", "4Gi")',
      "resources.gpu.count: must be an integer >= 1, not 0",
      'resources.gpu.vendor: unknown field "vendor" (known: count, type, memory)',
      "resources.storage.type: must be a string, not a number",
      'resources.fpga: unknown resource "fpga" (known: cpu, memory, gpu, storage)',
    ]);
  });

  it("reads a GPU type written as a number as its text, as labels", () => {
    const { document } = parseDefinitionText(
      [
        "name: wf",
        "tasks:",
        "  - {id: a, type: shell, command: x, resources: {gpu: {type: 4090}}}",
        "  - {id: b, type: shell, command: x, resources: {gpu: {type: 3.10}}}",
        "",
      ].join("\n"),
    );
    const { definition } = validate(document);
    expect(definition?.tasks.map((t) => t.resources)).toEqual([
      { gpu: { type: "4090" } },
      { gpu: { type: "3.10" } },
    ]);
    // The claim matches it, as it would "4090" written as a string.
    const request = resourceRequest(definition?.tasks[0]?.resources);
    expect(request?.gpu_type).toBe("4090");
    expect(
      problemsOf(
        workflow(echo("a", { resources: { gpu: { type: Infinity } } })),
      ),
    ).toEqual([
      {
        taskId: "a",
        field: "resources.gpu.type",
        message:
          'Infinity is not a GPU model (letters and digits, like "h100" or "nvidia-a100-80gb")',
      },
    ]);
  });

  it("takes a GPU count as a whole-number quantity in either form", () => {
    const { definition } = validate(
      workflow(
        echo("a", { resources: { gpu: { count: "2", type: "h100" } } }),
        echo("b", { resources: { gpu: "2" } }),
        echo("c", { resources: { gpu: { count: "1e1" } } }),
      ),
    );
    expect(
      definition?.tasks.map((t) => resourceRequest(t.resources)?.gpu_count),
    ).toEqual([2, 2, 10]);
    const problems = problemsOf(
      workflow(
        echo("a", { resources: { gpu: { count: "1.5" } } }),
        echo("b", { resources: { gpu: "500m" } }),
        echo("c", { resources: { gpu: { count: "0" } } }),
        echo("d", { resources: { gpu: { count: "2k" } } }),
      ),
    );
    expect(problems.map((p) => `${p.taskId} ${p.field}: ${p.message}`)).toEqual(
      [
        'a resources.gpu.count: must be an integer >= 1, not "1.5"',
        'b resources.gpu: must be an integer >= 0, not "500m"',
        "c resources.gpu.count: must be an integer >= 1, not 0",
        "d resources.gpu.count: must be at most 1024, not 2000",
      ],
    );
  });

  it("refuses templates in resources, saying why", () => {
    const why =
      "templates are not rendered in resources, which are read when the " +
      "run starts to match the task to agents; write the value itself";
    const problems = problemsOf({
      ...workflow(
        echo("a", {
          resources: {
            cpu: "${params.cpu}",
            gpu: { count: "${params.n}", type: "${params.t}" },
            storage: { size: "${params.s}", type: "${params.k}" },
          },
        }),
        echo("b", { resources: { gpu: "${params.n}", memory: "${1 + 1" } }),
      ),
      params: { cpu: "1", n: 1, t: "h100", s: "1Gi", k: "ssd" },
      defaults: { resources: { memory: "${params.s}" } },
    });
    expect(problems.map((p) => `${p.taskId} ${p.field}: ${p.message}`)).toEqual(
      [
        ` defaults.resources.memory: ${why}`,
        `a resources.cpu: ${why}`,
        `a resources.gpu.count: ${why}`,
        `a resources.gpu.type: ${why}`,
        `a resources.storage.size: ${why}`,
        `a resources.storage.type: ${why}`,
        `b resources.gpu: ${why}`,
        `b resources.memory: ${why}`,
      ],
    );
  });

  it("refuses amounts the dispatcher could not count exactly", () => {
    const problems = problemsOf(
      workflow(
        echo("a", {
          resources: {
            cpu: "1e13",
            memory: "9Ei",
            gpu: "2000",
            storage: { size: "1e300" },
          },
        }),
        echo("b", {
          resources: { gpu: { count: 1025 }, memory: "1e400", cpu: Infinity },
        }),
        echo("c", { resources: { gpu: { type: "---" } } }),
        echo("d", { resources: { gpu: { type: "日本" } } }),
      ),
    );
    expect(problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      'resources.cpu: "1e13" is too large to schedule',
      'resources.memory: "9Ei" is too large to schedule',
      "resources.gpu: must be at most 1024, not 2000",
      'resources.storage.size: "1e300" is too large to schedule',
      "resources.gpu.count: must be at most 1024, not 1025",
      'resources.memory: "1e400" is too large to schedule',
      "resources.cpu: Infinity is too large to schedule",
      'resources.gpu.type: "---" is not a GPU model (letters and digits, like "h100" or "nvidia-a100-80gb")',
      'resources.gpu.type: "日本" is not a GPU model (letters and digits, like "h100" or "nvidia-a100-80gb")',
    ]);
  });
});

describe("validateDefinition: text PostgreSQL cannot store", () => {
  const NUL = "holds a NUL character (\\u0000), which cannot be stored";

  it("refuses a NUL in any field or key, naming each by its path", () => {
    const problems = problemsOf(
      {
        ...workflow(
          echo("a", { env: { HOME: "/tmp\u0000x" } }),
          echo("b", { command: "echo \u0000", labels: { "k\u0000": "v" } }),
        ),
        defaults: { env: { LANG: "C\u0000" } },
      },
      { region: "eu\u0000" },
    );
    expect(problems).toEqual([
      { taskId: "", field: "tasks[0].env.HOME", message: NUL },
      { taskId: "", field: "tasks[1].command", message: NUL },
      { taskId: "", field: "tasks[1].labels.k\\u0000", message: NUL },
      { taskId: "", field: "defaults.env.LANG", message: NUL },
      { taskId: "", field: "params.region", message: NUL },
    ]);
  });

  it("refuses a lone UTF-16 surrogate, which is not text", () => {
    const parsed = parseDefinitionText(
      '{"name":"wf","tasks":[{"id":"a","type":"shell","command":"echo \\ud800"}]}',
    );
    expect(problemsOf(parsed.document)).toEqual([
      {
        taskId: "",
        field: "tasks[0].command",
        message:
          "holds a lone UTF-16 surrogate (\\uD800 to \\uDFFF alone), which is not text",
      },
    ]);
  });

  it("refuses a __proto__ key, which the messages to agents would drop", () => {
    const yaml = parseDefinitionText(
      [
        "name: wf",
        "tasks:",
        "  - id: a",
        "    type: shell",
        "    command: env",
        "    env: { __proto__: x, KEPT: y }",
        "    labels: { __proto__: z }",
      ].join("\n"),
    );
    const json = parseDefinitionText(
      '{"name":"wf","tasks":[{"id":"a","type":"shell","command":"__proto__","env":{"A":"__proto__"}}]}',
    );
    const message =
      "is a key no JavaScript object keeps as data (it names the object's prototype): rename it";
    expect(problemsOf(yaml.document)).toEqual([
      { taskId: "", field: "tasks[0].env.__proto__", message },
      { taskId: "", field: "tasks[0].labels.__proto__", message },
    ]);
    // As a value it is text like any other.
    expect(validate(json.document).problems).toEqual([]);
  });
});
