import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { SecretKey } from "./secret-key.js";

/**
 * The stored form's version: AES-256-GCM, a 96-bit random nonce per value,
 * a 128-bit tag, and the secret's name as additional authenticated data.
 */
const FORMAT = "v1";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A stored value that does not decrypt; the message never holds a value. */
export class SecretDecryptError extends Error {
  override readonly name = "SecretDecryptError";
  constructor(
    message: string,
    readonly code: "secret_key_mismatch" | "secret_corrupt",
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Encrypts a value for the row of `name`. The result is text:
 * `v1:<key id>:<nonce>:<ciphertext>:<tag>` (base64 parts). The name is
 * authenticated, so a ciphertext copied to another name fails to decrypt.
 */
export function encryptSecret(
  key: SecretKey,
  name: string,
  value: string,
): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key.bytes, nonce, {
    authTagLength: TAG_BYTES,
  });
  cipher.setAAD(Buffer.from(name, "utf8"));
  const body = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
  return [
    FORMAT,
    key.id,
    nonce.toString("base64"),
    body.toString("base64"),
    cipher.getAuthTag().toString("base64"),
  ].join(":");
}

/** The id of the key a stored value was encrypted with, if readable. */
export function keyIdOf(stored: string): string | undefined {
  const [format, keyId] = stored.split(":");
  return format === FORMAT ? keyId : undefined;
}

/**
 * Decrypts the stored value of `name`. Throws {@link SecretDecryptError}
 * when the value was made with another key (replicas sharing a database
 * must share the key), or was altered or moved from another name.
 */
export function decryptSecret(
  key: SecretKey,
  name: string,
  stored: string,
): string {
  const parts = stored.split(":");
  const [format, keyId, nonce, body, tag] = parts;
  if (parts.length !== 5 || format !== FORMAT || !nonce || !tag) {
    throw new SecretDecryptError(
      `secret "${name}": the stored value is not in a known format`,
      "secret_corrupt",
    );
  }
  if (keyId !== key.id) {
    throw new SecretDecryptError(
      `secret "${name}" was encrypted with key ${keyId}, but this control ` +
        `plane has key ${key.id}: replicas sharing a database must share ` +
        "the secret key",
      "secret_key_mismatch",
    );
  }
  try {
    const decipher = createDecipheriv(
      "aes-256-gcm",
      key.bytes,
      Buffer.from(nonce, "base64"),
      { authTagLength: TAG_BYTES },
    );
    decipher.setAAD(Buffer.from(name, "utf8"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    const plain = Buffer.concat([
      decipher.update(Buffer.from(body ?? "", "base64")),
      decipher.final(),
    ]);
    return plain.toString("utf8");
  } catch (error) {
    throw new SecretDecryptError(
      `secret "${name}": the stored value does not decrypt (altered, or ` +
        "copied from another secret)",
      "secret_corrupt",
      { cause: error },
    );
  }
}
