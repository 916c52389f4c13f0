import { describe, expect, it } from "vitest";
import { NAMED_TASKS, nameTasks } from "./name-tasks.js";

describe("nameTasks", () => {
  it("names a few in the order runs list them", () => {
    expect(nameTasks(["b", "each[10]", "each[2]", "a"])).toBe(
      "a, b, each[2], each[10]",
    );
  });

  it("names the first ten, then how many more", () => {
    const ids = Array.from({ length: 150 }, (_, i) => `f[${149 - i}]`);
    const firstTen = Array.from({ length: NAMED_TASKS }, (_, i) => `f[${i}]`);
    expect(nameTasks(ids)).toBe(`${firstTen.join(", ")} and 140 more`);
  });
});
