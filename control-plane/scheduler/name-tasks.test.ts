import { describe, expect, it } from "vitest";
import { NAMED_TASKS, nameTasks } from "./name-tasks.js";

describe("nameTasks", () => {
  it("names a few, in the order given", () => {
    expect(nameTasks(["b", "each[2]", "each[10]", "a"])).toBe(
      "b, each[2], each[10], a",
    );
  });

  it("names the first ten, then how many more", () => {
    const ids = Array.from({ length: 150 }, (_, i) => `f[${i}]`);
    const firstTen = ids.slice(0, NAMED_TASKS);
    expect(nameTasks(ids)).toBe(`${firstTen.join(", ")} and 140 more`);
  });
});
