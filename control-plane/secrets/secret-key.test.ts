import { randomBytes } from "node:crypto";
import {
  chmod,
  mkdtemp,
  readFile,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadSecretKey, SecretKeyError } from "./secret-key.js";

describe("the secret key", () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "deerflow-key-"));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function refusal(keyFile: string, envValue?: string) {
    const error = await loadSecretKey({ keyFile, envValue }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SecretKeyError);
    return error as SecretKeyError;
  }

  it("creates the key file with mode 0600 on first start, then reuses it", async () => {
    const keyFile = join(dir, "nested", "secret.key");
    const first = await loadSecretKey({ keyFile });
    expect(first.created).toBe(true);
    expect(first.source).toBe(keyFile);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "nested"))).mode & 0o077).toBe(0);
    const text = await readFile(keyFile, "utf8");
    expect(Buffer.from(text.trim(), "base64")).toHaveLength(32);
    const again = await loadSecretKey({ keyFile });
    expect(again.created).toBe(false);
    expect(again.key.id).toBe(first.key.id);
    expect(again.key.bytes.equals(first.key.bytes)).toBe(true);
  });

  it("refuses a key file that group or others can read, naming it", async () => {
    const keyFile = join(dir, "secret.key");
    await loadSecretKey({ keyFile });
    for (const mode of [0o640, 0o604, 0o660]) {
      await chmod(keyFile, mode);
      const error = await refusal(keyFile);
      expect(error.code).toBe("secret_key_invalid");
      expect(error.message).toContain(keyFile);
      expect(error.message).toContain(`mode 0${mode.toString(8)}`);
      expect(error.message).toContain(`chmod 600 ${keyFile}`);
    }
  });

  it("refuses a key file of the wrong length, naming it", async () => {
    const keyFile = join(dir, "secret.key");
    for (const bytes of [16, 31, 33, 64]) {
      await writeFile(keyFile, randomBytes(bytes).toString("base64"), {
        mode: 0o600,
      });
      const error = await refusal(keyFile);
      expect(error.message).toContain(`secret key file ${keyFile}`);
      expect(error.message).toContain(`got ${bytes} bytes`);
    }
    await writeFile(keyFile, "not base64 at all!", { mode: 0o600 });
    expect((await refusal(keyFile)).message).toContain("base64 of 32 bytes");
  });

  it("takes DEERFLOW_SECRET_KEY over the file, and checks its length", async () => {
    const keyFile = join(dir, "secret.key");
    const bytes = randomBytes(32);
    const loaded = await loadSecretKey({
      keyFile,
      envValue: bytes.toString("base64"),
    });
    expect(loaded.source).toBe("env");
    expect(loaded.key.bytes.equals(bytes)).toBe(true);
    await expect(stat(keyFile)).rejects.toThrow();
    const error = await refusal(keyFile, randomBytes(24).toString("base64"));
    expect(error.message).toContain("DEERFLOW_SECRET_KEY");
    expect(error.message).toContain("got 24 bytes");
  });

  it("says when the key file cannot be made", async () => {
    const blocker = join(dir, "file");
    await writeFile(blocker, "");
    const error = await refusal(join(blocker, "secret.key"));
    expect(error.code).toBe("secret_key_uncreatable");
    expect(error.message).toContain(join(blocker, "secret.key"));
  });
});
