import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  decryptSecret,
  encryptSecret,
  keyIdOf,
  SecretDecryptError,
} from "./secret-cipher.js";
import { secretKeyOf } from "./secret-key.js";

const key = secretKeyOf(randomBytes(32));

function decryptError(run: () => unknown): SecretDecryptError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretDecryptError);
    return error as SecretDecryptError;
  }
  throw new Error("decrypted");
}

describe("the secret cipher (AES-256-GCM)", () => {
  it("round-trips values, with a fresh nonce each time", () => {
    for (const value of [
      "s3cret",
      "",
      "ünïcødé ✓ \n\t'\"",
      "x".repeat(65536),
    ]) {
      const stored = encryptSecret(key, "NAME", value);
      expect(decryptSecret(key, "NAME", stored)).toBe(value);
    }
    const a = encryptSecret(key, "NAME", "same");
    const b = encryptSecret(key, "NAME", "same");
    expect(a).not.toBe(b);
    expect(a.split(":")[2]).not.toBe(b.split(":")[2]);
    expect(Buffer.from(a.split(":")[2] ?? "", "base64")).toHaveLength(12);
  });

  it("stores the format and the key id, and never the value", () => {
    const stored = encryptSecret(key, "NAME", "visible-if-broken");
    expect(stored.startsWith(`v1:${key.id}:`)).toBe(true);
    expect(keyIdOf(stored)).toBe(key.id);
    expect(stored).not.toContain("visible-if-broken");
    expect(Buffer.from(stored, "utf8").toString("latin1")).not.toContain(
      Buffer.from("visible-if-broken").toString("base64"),
    );
  });

  it("fails for another name: a value cannot be moved between names", () => {
    const stored = encryptSecret(key, "DB_PASS", "hunter22");
    const error = decryptError(() => decryptSecret(key, "API_TOKEN", stored));
    expect(error.code).toBe("secret_corrupt");
    expect(error.message).toContain('secret "API_TOKEN"');
    expect(error.message).not.toContain("hunter22");
  });

  it("fails when any part was altered", () => {
    const stored = encryptSecret(key, "NAME", "hunter22");
    const parts = stored.split(":");
    for (const index of [2, 3, 4]) {
      const changed = [...parts];
      const bytes = Buffer.from(changed[index] ?? "", "base64");
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      changed[index] = bytes.toString("base64");
      const error = decryptError(() =>
        decryptSecret(key, "NAME", changed.join(":")),
      );
      expect(error.code).toBe("secret_corrupt");
    }
    const truncated = `${parts.slice(0, 4).join(":")}:`;
    expect(decryptError(() => decryptSecret(key, "NAME", truncated)).code).toBe(
      "secret_corrupt",
    );
    expect(decryptError(() => decryptSecret(key, "NAME", "plain")).code).toBe(
      "secret_corrupt",
    );
  });

  it("names both keys when the value was made with another key", () => {
    const other = secretKeyOf(randomBytes(32));
    const stored = encryptSecret(other, "NAME", "hunter22");
    const error = decryptError(() => decryptSecret(key, "NAME", stored));
    expect(error.code).toBe("secret_key_mismatch");
    expect(error.message).toContain(other.id);
    expect(error.message).toContain(key.id);
    expect(error.message).toContain("must share the secret key");
    // A forged key id does not get past the tag.
    const forged = stored.replace(other.id, key.id);
    expect(decryptError(() => decryptSecret(key, "NAME", forged)).code).toBe(
      "secret_corrupt",
    );
  });
});
