import { describe, expect, it } from "vitest";
import { referencedTasks } from "./referenced-tasks.js";

describe("referencedTasks", () => {
  it("reads templates and bare CEL expressions", () => {
    expect(
      referencedTasks("cp ${tasks.a.output.file} ${tasks['b-1'].output.x}"),
    ).toEqual(new Set(["a", "b-1"]));
    expect(
      referencedTasks("tasks.a.status == 'SUCCESS' || tasks.c.output.n > 0"),
    ).toEqual(new Set(["a", "c"]));
  });

  it("ignores names bound by comprehensions and text that does not parse", () => {
    expect(referencedTasks("[1].exists(tasks, tasks == 1)")).toEqual(new Set());
    expect(referencedTasks("${tasks.a.output + }")).toEqual(new Set());
    expect(referencedTasks("no templates here")).toEqual(new Set());
    expect(referencedTasks("$${tasks.a}")).toEqual(new Set());
  });

  it("finds references in has() and inside macros", () => {
    expect(referencedTasks("has(tasks.a.output.x)")).toEqual(new Set(["a"]));
    expect(referencedTasks("params.l.all(x, x < tasks.z.output.max)")).toEqual(
      new Set(["z"]),
    );
  });
});
