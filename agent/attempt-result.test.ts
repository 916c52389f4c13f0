import { describe, expect, it } from "vitest";
import { AttemptOutcome } from "../gen/deerflow/v1/run_pb.js";
import { NonRetryableError, TaskError } from "../plugin-sdk/index.js";
import {
  cutError,
  MAX_ERROR_CHARS,
  MAX_JSON_OBJECT_BYTES,
  MAX_STRUCT_BYTES,
  settledResult,
  toJsonObject,
} from "./attempt-result.js";

describe("settledResult", () => {
  it("reports a resolved execute as success with its exit code", () => {
    expect(
      settledResult({ kind: "resolved", value: { exitCode: 0 } }, undefined, 0),
    ).toEqual({ outcome: AttemptOutcome.SUCCESS, exitCode: 0 });
  });

  it("carries a TaskError's retry class, exit code and finality", () => {
    const error = new TaskError("server said 503", {
      retryClass: "5xx",
      exitCode: 2,
      retryAfterMs: 4000.4,
    });
    expect(settledResult({ kind: "threw", error }, undefined, 0)).toEqual({
      outcome: AttemptOutcome.FAILED,
      exitCode: 2,
      error: "server said 503",
      retryable: true,
      retryClass: "5xx",
      retryAfterMs: 4000,
    });
    const final = new NonRetryableError("404");
    expect(
      settledResult({ kind: "threw", error: final }, undefined, 0),
    ).toMatchObject({ retryable: false, retryClass: "error" });
  });

  it("treats any other throw as a retryable error", () => {
    const settled = { kind: "threw" as const, error: "plain string" };
    expect(settledResult(settled, undefined, 0)).toMatchObject({
      outcome: AttemptOutcome.FAILED,
      error: "plain string",
      retryable: true,
      retryClass: "error",
    });
  });

  it("lets an abort decide the outcome even if execute resolved", () => {
    const resolved = { kind: "resolved" as const, value: undefined };
    expect(settledResult(resolved, "timeout", 1500)).toMatchObject({
      outcome: AttemptOutcome.TIMED_OUT,
      error: "timed out after 1500 ms",
      retryClass: "timeout",
      retryable: true,
    });
    expect(settledResult(resolved, "killed", 0)).toMatchObject({
      outcome: AttemptOutcome.KILLED,
      retryable: false,
    });
    for (const reason of [
      "lost",
      "stale",
      "drained",
      "revoked",
      "closed",
    ] as const) {
      expect(settledResult(resolved, reason, 0)).toMatchObject({
        outcome: AttemptOutcome.LOST,
        retryClass: "lost",
        retryable: true,
      });
    }
    // An operator's revoke is what the control plane records LOST.
    expect(settledResult(resolved, "revoked", 0).error).toBe(
      "the lease was revoked",
    );
  });

  it("says so when the plugin ignored its abort", () => {
    expect(settledResult({ kind: "abandoned" }, "killed", 0).error).toBe(
      "killed; the plugin did not stop in time",
    );
  });

  it("fails a config that did not render for good", () => {
    const error = new Error("config.url: unresolved attribute");
    expect(settledResult({ kind: "config", error }, undefined, 0)).toEqual({
      outcome: AttemptOutcome.FAILED,
      error: "config.url: unresolved attribute",
      retryable: false,
      retryClass: "error",
    });
  });
});

describe("toJsonObject", () => {
  it("drops what JSON cannot carry", () => {
    expect(toJsonObject({ a: 1, b: undefined, c: () => 1 })).toEqual({ a: 1 });
  });

  it("replaces an unserializable output with the reason", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(toJsonObject(cyclic)._error).toMatch(/^not JSON: /);
    expect(toJsonObject({ n: 1n })._error).toMatch(/^not JSON: /);
  });

  it("keeps an output that holds a NUL, with U+FFFD in its place", () => {
    // A stdout tail or an HTTP body with binary bytes in it.
    expect(toJsonObject({ rows: [{ "k\u0000": "a\u0000b" }] })).toEqual({
      rows: [{ "k\uFFFD": "a\uFFFDb" }],
    });
  });

  it("turns a non-object into an empty object", () => {
    expect(toJsonObject([1, 2])).toEqual({});
    expect(toJsonObject(undefined)).toEqual({});
  });
});

describe("toJsonObject limits", () => {
  it("replaces output nested too deep for the control plane with the reason", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { next: deep };
    const json = toJsonObject({ result: deep });
    expect(json._error).toMatch(/nested deeper than 32 levels/);
    expect(Object.keys(json)).toEqual(["_error"]);
  });

  it("replaces output with a __proto__ key, which the result would drop", () => {
    const json = toJsonObject(
      JSON.parse('{"tasks":[{"id":"a","env":{"__proto__":"x"}}]}'),
    );
    expect(json).toEqual({
      _error:
        "at .tasks[0].env.__proto__: is a key no JavaScript object keeps as data (it names the object's prototype): rename it",
    });
  });

  it("replaces output larger than the limit", () => {
    const json = toJsonObject({ blob: "x".repeat(MAX_JSON_OBJECT_BYTES) });
    expect(json._error).toMatch(/larger than/);
  });
});

describe("what a Result can carry", () => {
  it("replaces output over the limit in UTF-8 bytes, not UTF-16 units", () => {
    // A third of the limit in characters, each three bytes in UTF-8.
    const wide = "€".repeat(Math.ceil(MAX_JSON_OBJECT_BYTES / 3) + 10);
    expect(toJsonObject({ wide })._error).toBe(
      `larger than ${MAX_JSON_OBJECT_BYTES} bytes as JSON`,
    );
  });

  it("replaces output whose Struct would be too large, though its JSON is not", () => {
    // Two bytes of JSON per number; eleven as a Struct's value.
    const numbers = new Array(900_000).fill(0);
    expect(toJsonObject({ numbers })._error).toBe(
      `larger than ${MAX_STRUCT_BYTES} bytes as a Struct`,
    );
    expect(toJsonObject({ numbers: numbers.slice(0, 1000) })).toEqual({
      numbers: numbers.slice(0, 1000),
    });
  });

  it("cuts a long error, saying how long it was, never inside a surrogate pair", () => {
    expect(cutError("short")).toBe("short");
    const long = "E".repeat(MAX_ERROR_CHARS + 5);
    expect(cutError(long)).toBe(
      `${"E".repeat(MAX_ERROR_CHARS - 1)}… (cut: ${MAX_ERROR_CHARS + 5} characters in all)`,
    );
    const pair = `${"E".repeat(MAX_ERROR_CHARS - 1)}🦌tail`;
    expect(
      cutError(pair).startsWith(`${"E".repeat(MAX_ERROR_CHARS - 1)}…`),
    ).toBe(true);
  });

  it("fails a success whose exit code is no 32-bit integer, naming it", () => {
    for (const exitCode of [2 ** 40, -(2 ** 31) - 1, 1.5, "1"]) {
      expect(
        settledResult({ kind: "resolved", value: { exitCode } }, undefined, 0),
      ).toEqual({
        outcome: AttemptOutcome.FAILED,
        error: `exitCode: must be a whole number from -2147483648 to 2147483647, not ${
          typeof exitCode === "string" ? `"${exitCode}"` : exitCode
        }`,
        retryable: false,
        retryClass: "error",
      });
    }
    expect(
      settledResult(
        { kind: "resolved", value: { exitCode: -(2 ** 31) } },
        undefined,
        0,
      ),
    ).toEqual({ outcome: AttemptOutcome.SUCCESS, exitCode: -(2 ** 31) });
  });

  it("reads any thrown value as text, and cuts a retry class", () => {
    const numbered = new Error("x");
    (numbered as unknown as { message: unknown }).message = 12345;
    const odd = Object.create(null);
    const huge = new TaskError("rc", { retryClass: "R".repeat(100_000) });
    const failed = (error: unknown) =>
      settledResult({ kind: "threw", error }, undefined, 0);
    expect(failed(numbered).error).toBe("12345");
    expect(failed(odd).error).toBe("(a value that cannot be shown as text)");
    expect(failed(huge).retryClass).toBe(`${"R".repeat(255)}…`);
  });

  it("sends retryable as a boolean, whatever the plugin set", () => {
    const withRetryable = (retryable: unknown) => {
      const error = new TaskError("x");
      Object.defineProperty(error, "retryable", { value: retryable });
      return settledResult({ kind: "threw", error }, undefined, 0).retryable;
    };
    expect(withRetryable(false)).toBe(false);
    expect(withRetryable(true)).toBe(true);
    expect(withRetryable("false")).toBe(true);
    expect(
      withRetryable({
        get x() {
          throw new Error("g");
        },
      }),
    ).toBe(true);
  });
});
