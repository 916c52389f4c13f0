import { describe, expect, it } from "vitest";
import {
  collectKeyValues,
  nonEmptyPath,
  positiveInteger,
} from "./key-value.js";

describe("positiveInteger", () => {
  const slots = positiveInteger("--slots", 10_000);

  it("takes decimal digits from 1 to the maximum", () => {
    expect(slots("1")).toBe(1);
    expect(slots("256")).toBe(256);
    expect(slots("10000")).toBe(10_000);
  });

  it("refuses what JavaScript would read as a number but a person would not", () => {
    for (const raw of ["0x10", "1e3", " 12", "12 ", "+5", "1.0", "", "0b1"]) {
      expect(() => slots(raw)).toThrow(
        `--slots: expected a whole number from 1 to 10000, got "${raw}"`,
      );
    }
  });

  it("says the same for zero and for too many", () => {
    expect(() => slots("0")).toThrow(/from 1 to 10000, got "0"/);
    expect(() => slots("10001")).toThrow(/from 1 to 10000, got "10001"/);
  });
});

describe("nonEmptyPath", () => {
  const stateDir = nonEmptyPath("--state-dir");

  it("takes any path, spaces and all", () => {
    expect(stateDir("/var/lib/deerflow agent")).toBe("/var/lib/deerflow agent");
    expect(stateDir(".")).toBe(".");
  });

  it("refuses an empty or blank value, naming the flag", () => {
    for (const raw of ["", " ", "\t"]) {
      expect(() => stateDir(raw)).toThrow(
        "--state-dir: expected a path, got an empty value",
      );
    }
  });
});

describe("collectKeyValues", () => {
  const params = collectKeyValues("--param", true);

  it("keeps JSON's types and takes other text as a string", () => {
    expect(params("n=3", params("s=a b"))).toEqual({ n: 3, s: "a b" });
  });

  it("refuses a __proto__ key anywhere in a JSON value, naming where", () => {
    expect(() => params('p={"y":[{"__proto__":1}]}')).toThrow(
      '--param p.y[0].__proto__: "__proto__" cannot be a key; rename it',
    );
  });
});
