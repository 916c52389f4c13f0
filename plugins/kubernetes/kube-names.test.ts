import { describe, expect, it } from "vitest";
import {
  isDnsLabel,
  isDnsSubdomain,
  isLabelKey,
  isLabelValue,
  toLabelValue,
} from "./kube-names.js";

describe("Kubernetes names", () => {
  it("tells DNS labels and subdomains", () => {
    expect(isDnsLabel("team-a")).toBe(true);
    expect(isDnsLabel("Team")).toBe(false);
    expect(isDnsLabel("-a")).toBe(false);
    expect(isDnsLabel("a".repeat(64))).toBe(false);
    expect(isDnsSubdomain("example.com")).toBe(true);
    expect(isDnsSubdomain("example..com")).toBe(false);
  });

  it("tells label keys and values", () => {
    expect(isLabelKey("app")).toBe(true);
    expect(isLabelKey("example.com/app_name")).toBe(true);
    expect(isLabelKey("deerflow.run_id")).toBe(true);
    expect(isLabelKey("bad key")).toBe(false);
    expect(isLabelKey("Bad_Prefix/app")).toBe(false);
    expect(isLabelValue("")).toBe(true);
    expect(isLabelValue("v1.2_x-y")).toBe(true);
    expect(isLabelValue("-v")).toBe(false);
    expect(isLabelValue("x".repeat(64))).toBe(false);
  });

  it("makes any string a label value", () => {
    expect(toLabelValue("process[0]")).toBe("process_0");
    expect(toLabelValue("[x]")).toBe("x");
    expect(toLabelValue("a b/c")).toBe("a_b_c");
    expect(toLabelValue("x".repeat(100))).toHaveLength(63);
    expect(toLabelValue("___")).toBe("");
    for (const value of ["process[0]", "é", `${"x".repeat(70)}!`]) {
      expect(isLabelValue(toLabelValue(value))).toBe(true);
    }
  });
});
