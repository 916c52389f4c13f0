import { describe, expect, it } from "vitest";
import { parseDefinitionText } from "./parse-definition-text.js";
import { echo, problemsOf, validate, workflow } from "./test-support.js";

/** Each problem as "task field: message". */
function lines(document: unknown): string[] {
  return problemsOf(document).map(
    (p) => `${p.taskId} ${p.field}: ${p.message}`,
  );
}

const OPERATORS = "In, NotIn, Exists, DoesNotExist, Gt, Lt";

describe("validateDefinition: affinity", () => {
  it("accepts every operator and writes values as strings", () => {
    const { definition, problems } = validate(
      parseDefinitionText(`
name: wf
tasks:
  - id: train
    type: shell
    command: train
    node_selector: { pool: gpu }
    affinity:
      - { key: gpu_type, operator: In, values: [a100, h100] }
      - { key: zone, operator: NotIn, values: [eu-3, 7, true] }
      - { key: cuda, operator: Exists }
      - { key: spot, operator: DoesNotExist, values: [] }
      - { key: gpu_count, operator: Gt, values: [1] }
      - { key: gpu_memory_bytes, operator: Lt, values: ["-5"] }
`).document,
    );
    expect(problems).toEqual([]);
    expect(definition?.tasks[0]).toMatchObject({
      node_selector: { pool: "gpu" },
      affinity: [
        { key: "gpu_type", operator: "In", values: ["a100", "h100"] },
        { key: "zone", operator: "NotIn", values: ["eu-3", "7", "true"] },
        { key: "cuda", operator: "Exists" },
        { key: "spot", operator: "DoesNotExist" },
        { key: "gpu_count", operator: "Gt", values: ["1"] },
        { key: "gpu_memory_bytes", operator: "Lt", values: ["-5"] },
      ],
    });
  });

  it("reports every problem of every expression at once, by task and field", () => {
    const problems = lines(
      workflow(
        echo("a", {
          affinity: [
            { key: "gpu", operator: "in", values: ["x"] },
            { key: "gpu", operator: "In" },
            { key: "gpu", operator: "NotIn", values: [] },
            { key: "spot", operator: "Exists", values: ["yes"] },
            { key: "spot", operator: "DoesNotExist", values: ["no"] },
            { key: "gpu_count", operator: "Gt", values: ["1", "2"] },
            { key: "gpu_count", operator: "Lt" },
            { key: "gpu_count", operator: "Gt", values: ["1.5"] },
            { key: "gpu_count", operator: "Lt", values: ["two"] },
          ],
        }),
        echo("b", {
          affinity: [
            { key: "", operator: "Exists" },
            { operator: "Exists" },
            { key: 3, operator: "Exists" },
            { key: "zone" },
            { key: "zone", operator: "In", values: "eu-1" },
            { key: "zone", operator: "In", values: ["eu-1", null, {}] },
            { key: "zone", operator: "Exists", value: "x" },
            "zone=eu-1",
          ],
        }),
        echo("c", { affinity: { gpu: "In" } }),
      ),
    );
    expect(problems).toEqual([
      `a affinity[0].operator: unknown operator "in" (known: ${OPERATORS})`,
      "a affinity[1].values: In needs at least one value",
      "a affinity[2].values: NotIn needs at least one value",
      "a affinity[3].values: Exists takes no values",
      "a affinity[4].values: DoesNotExist takes no values",
      "a affinity[5].values: Gt takes exactly one integer value, not 2",
      "a affinity[6].values: Lt takes exactly one integer value, not 0",
      'a affinity[7].values[0]: Gt compares integers; "1.5" is not one',
      'a affinity[8].values[0]: Lt compares integers; "two" is not one',
      "b affinity[0].key: must not be empty",
      "b affinity[1].key: is required",
      "b affinity[2].key: must be a label name, not a number",
      `b affinity[3].operator: is required (one of ${OPERATORS})`,
      "b affinity[4].values: must be a list of values, not a string",
      "b affinity[5].values[1]: must be a string, number or boolean, not null",
      "b affinity[5].values[2]: must be a string, number or boolean, not an object",
      'b affinity[6].value: unknown field "value" (known: key, operator, values)',
      "b affinity[7]: must be an object with key, operator and values, not a string",
      "c affinity: must be a list of { key, operator, values } expressions, not an object",
    ]);
  });

  it("refuses what could never match or be compared: bad label names, huge or inexact numbers", () => {
    const tooLong = `1${"0".repeat(255)}`;
    expect(
      lines(
        workflow(
          echo("a", {
            affinity: [
              { key: "bad key!", operator: "Exists" },
              { key: "cpu_count", operator: "Gt", values: [tooLong] },
              { key: "mem", operator: "Lt", values: [1e20] },
              {
                key: "id",
                operator: "In",
                values: [2 ** 64, 1.5],
              },
            ],
            node_selector: { zöne: "a" },
          }),
        ),
      ),
    ).toEqual([
      `a affinity[0].key: label name "bad key!" must be 1 to 63 letters, digits, '_', '.', '/' or '-', starting with a letter or digit`,
      expect.stringMatching(
        /^a affinity\[1\]\.values\[0\]: Gt compares integers; "1000+\.\.\. is not one$/,
      ),
      'a affinity[2].values[0]: 100000000000000000000 is too large to be read exactly as a number; write it as a string ("...")',
      'a affinity[3].values[0]: 18446744073709552000 is too large to be read exactly as a number; write it as a string ("...")',
      `a node_selector.zöne: key "zöne" must be 1 to 63 letters, digits, '_', '.', '/' or '-', starting with a letter or digit`,
    ]);
  });

  it("names a task without a usable id by its position", () => {
    const problems = problemsOf(
      workflow(echo("a"), echo("a"), echo("b"), {
        type: "shell",
        command: "x",
        affinity: [{ key: "gpu", operator: "Gt", values: [1, 2] }],
      }),
    );
    expect(problems).toContainEqual({
      taskId: "",
      field: "tasks[3].affinity[0].values",
      message: "Gt takes exactly one integer value, not 2",
    });
  });

  it("refuses templates in keys and values, which are never rendered", () => {
    expect(
      lines(
        workflow(
          echo("a", {
            affinity: [
              { key: "${params.k}", operator: "Exists" },
              { key: "zone", operator: "In", values: ["eu", "${params.z}"] },
            ],
          }),
        ),
      ),
    ).toEqual([
      "a affinity[0].key: templates are not rendered here; write the value itself",
      "a affinity[1].values[1]: templates are not rendered here; write the value itself",
    ]);
  });

  it("comes from defaults for tasks that set none; [] sets none", () => {
    const affinity = [{ key: "spot", operator: "DoesNotExist" }];
    const { definition } = validate({
      name: "wf",
      defaults: { affinity },
      tasks: [echo("a"), echo("b", { affinity: [] })],
    });
    expect(definition?.tasks[0]?.affinity).toEqual(affinity);
    expect(definition?.tasks[1]?.affinity).toEqual([]);
    expect(
      lines({
        name: "wf",
        defaults: { affinity: [{ key: "spot", operator: "Exist" }] },
        tasks: [echo("a")],
      }),
    ).toEqual([
      ` defaults.affinity[0].operator: unknown operator "Exist" (known: ${OPERATORS})`,
    ]);
  });
});
