import { describe, expect, it } from "vitest";
import { SecretRedactor } from "./redact-secrets.js";

describe("SecretRedactor", () => {
  const redactor = new SecretRedactor({
    TOKEN: "s3cr3t-token",
    PIN: "123",
    QUOTED: 'it\'s "quoted"\\',
    PEM: "-----BEGIN KEY-----\nAAAABBBB\n \n-----END KEY-----",
  });

  it("replaces each value with its name", () => {
    expect(redactor.text("token=s3cr3t-token; again s3cr3t-token")).toBe(
      "token=[REDACTED:TOKEN]; again [REDACTED:TOKEN]",
    );
  });

  it("leaves values shorter than four characters alone", () => {
    expect(redactor.text("pin 123")).toBe("pin 123");
  });

  it("matches the JSON-escaped and shell-escaped forms", () => {
    const json = JSON.stringify({ v: 'it\'s "quoted"\\' });
    expect(redactor.text(json)).toBe('{"v":"[REDACTED:QUOTED]"}');
    expect(redactor.text("echo 'it'\\''s \"quoted\"\\'")).toBe(
      "echo '[REDACTED:QUOTED]'",
    );
    expect(redactor.text('echo "it\'s \\"quoted\\"\\\\"')).toBe(
      'echo "[REDACTED:QUOTED]"',
    );
  });

  it("matches a multi-line value whole, and line by line", () => {
    const pem = "-----BEGIN KEY-----\nAAAABBBB\n \n-----END KEY-----";
    expect(redactor.text(`key: ${pem}`)).toBe("key: [REDACTED:PEM]");
    expect(redactor.text("AAAABBBB")).toBe("[REDACTED:PEM]");
    // A blank line of the value is not a pattern.
    expect(redactor.text("a \n b")).toBe("a \n b");
  });

  it("redacts keys and strings of JSON values, recursively", () => {
    const output = {
      stdout: "s3cr3t-token\n",
      nested: [{ "s3cr3t-token": ["x s3cr3t-token y", 3, null, true] }],
    };
    expect(redactor.json(output)).toEqual({
      stdout: "[REDACTED:TOKEN]\n",
      nested: [{ "[REDACTED:TOKEN]": ["x [REDACTED:TOKEN] y", 3, null, true] }],
    });
    expect(output.stdout).toBe("s3cr3t-token\n");
  });

  it("keeps a __proto__ key an own key", () => {
    const value = JSON.parse('{"__proto__": {"a": "s3cr3t-token"}}');
    const out = redactor.json(value) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(["__proto__"]);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"a":"[REDACTED:TOKEN]"}}');
  });

  it("prefers the longest value where two overlap", () => {
    const overlap = new SecretRedactor({ SHORT: "abcd", LONG: "abcdefgh" });
    expect(overlap.text("xabcdefghx abcd")).toBe(
      "x[REDACTED:LONG]x [REDACTED:SHORT]",
    );
  });

  it("does nothing without secrets", () => {
    const none = new SecretRedactor({});
    expect(none.active).toBe(false);
    expect(none.text("anything")).toBe("anything");
  });
});
