import { describe, expect, it } from "vitest";
import { TaskAbort } from "./task-abort.js";

describe("TaskAbort.reasonOf", () => {
  it("is undefined until the signal aborts", () => {
    expect(TaskAbort.reasonOf(new AbortController().signal)).toBeUndefined();
  });

  it("reads the reason of a TaskAbort, even from another SDK copy", () => {
    const own = new AbortController();
    own.abort(new TaskAbort("timeout"));
    expect(TaskAbort.reasonOf(own.signal)).toBe("timeout");
    const foreign = Object.assign(new Error("x"), {
      name: "TaskAbort",
      reason: "lost",
    });
    const other = new AbortController();
    other.abort(foreign);
    expect(TaskAbort.reasonOf(other.signal)).toBe("lost");
  });

  it("counts any other abort as a kill", () => {
    const controller = new AbortController();
    controller.abort();
    expect(TaskAbort.reasonOf(controller.signal)).toBe("killed");
  });
});
