import { describe, expect, it } from "vitest";
import { testCatalog } from "../../workflow/test-support.js";
import { generatedTasks, MAX_DYNAMIC_DEPTH } from "./task-groups.js";

/** A generator whose id nests `depth` segments, as a run would name it. */
function generatorAt(depth: number) {
  const id = Array.from({ length: depth }, (_, i) => `g${i}`).join("/");
  return { id, type: "shell", dynamic: true, command: "gen" };
}

const output = {
  tasks: [{ id: "again", type: "shell", dynamic: true, command: "gen" }],
};

describe("generatedTasks", () => {
  it("names generated tasks under their generator's whole path", () => {
    const made = generatedTasks(generatorAt(2), output, {}, testCatalog);
    expect(made).toMatchObject({
      tasks: [{ id: "g0/g1/again", parent: "g0/g1", scope: "g0/g1" }],
    });
  });

  it(`stops generators that make generators at ${MAX_DYNAMIC_DEPTH} levels`, () => {
    const deepest = generatedTasks(
      generatorAt(MAX_DYNAMIC_DEPTH - 1),
      output,
      {},
      testCatalog,
    );
    expect("tasks" in deepest && deepest.tasks[0]?.id.split("/")).toHaveLength(
      MAX_DYNAMIC_DEPTH,
    );
    expect(
      generatedTasks(generatorAt(MAX_DYNAMIC_DEPTH), output, {}, testCatalog),
    ).toEqual({
      error: `dynamic: generated tasks may nest ${MAX_DYNAMIC_DEPTH} deep at most; these would be ${MAX_DYNAMIC_DEPTH + 1} deep`,
    });
  });
});
