import { describe, expect, it } from "vitest";
import { compareTaskIds } from "./run-view.js";

describe("compareTaskIds", () => {
  it("puts a group's children right after it, by index, before its siblings", () => {
    const ids = [
      "plan/zeta",
      "plan/each2",
      "plan/each[10]",
      "plan/each.z",
      "plan/each_y",
      "plan/each[2]",
      "plan/each-x",
      "plan/each",
      "plan/each[0].inner[11]",
      "plan/each[0]",
      "plan/each[0].inner[3]",
      "plan/alpha",
    ];
    expect([...ids].sort(compareTaskIds)).toEqual([
      "plan/alpha",
      "plan/each",
      "plan/each[0]",
      "plan/each[0].inner[3]",
      "plan/each[0].inner[11]",
      "plan/each[2]",
      "plan/each[10]",
      "plan/each-x",
      "plan/each.z",
      "plan/each2",
      "plan/each_y",
      "plan/zeta",
    ]);
  });
});
