import { createHash, randomBytes } from "node:crypto";
import { link, mkdir, open, unlink } from "node:fs/promises";
import { dirname } from "node:path";

/** The AES-256 key of the built-in store, with the id stored beside values. */
export interface SecretKey {
  /**
   * A short, stable name of the key (from its hash), written with every
   * value so that a replica holding another key says so plainly.
   */
  readonly id: string;
  readonly bytes: Buffer;
}

/** The environment variable that may hold the key, base64 of 32 bytes. */
export const SECRET_KEY_ENV = "DEERFLOW_SECRET_KEY";

/** Bytes of an AES-256 key. */
export const SECRET_KEY_BYTES = 32;

/** A key that is malformed, stored unsafely or cannot be made. */
export class SecretKeyError extends Error {
  override readonly name = "SecretKeyError";
  constructor(
    message: string,
    /** `secret_key_uncreatable`: no file, and none could be made. */
    readonly code: "secret_key_invalid" | "secret_key_uncreatable",
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Where the key comes from. */
export interface SecretKeySource {
  /** The base64 key from the environment; wins over the file when set. */
  envValue?: string | undefined;
  /** The key file, created with mode 0600 when absent. */
  keyFile: string;
}

/** What loading found: the key, and whether the file was just made. */
export interface LoadedSecretKey {
  key: SecretKey;
  /** "env", or the key file's path. */
  source: string;
  created: boolean;
}

/**
 * Loads the store's key: from DEERFLOW_SECRET_KEY when set, else from the
 * key file, which is created (mode 0600, 32 random bytes as base64) on
 * first start. A key file that group or others may read or write, or
 * that does not hold exactly 32 bytes, is refused, naming the file.
 */
export async function loadSecretKey(
  source: SecretKeySource,
): Promise<LoadedSecretKey> {
  if (source.envValue !== undefined && source.envValue !== "") {
    const key = decodeKey(source.envValue, SECRET_KEY_ENV);
    return { key, source: "env", created: false };
  }
  const created = await createKeyFileIfAbsent(source.keyFile);
  return {
    key: await readKeyFile(source.keyFile),
    source: source.keyFile,
    created,
  };
}

/** Builds a key from its 32 bytes. */
export function secretKeyOf(bytes: Buffer): SecretKey {
  const id = createHash("sha256")
    .update("deerflow secret key id\0")
    .update(bytes)
    .digest("hex")
    .slice(0, 12);
  return { id, bytes };
}

/**
 * Writes a new key only if no file exists. The key is written to a
 * private temporary file first and then linked into place (link fails
 * when the name exists), so a second server starting at the same moment
 * reads either no file or a complete one, never a half-written key.
 */
async function createKeyFileIfAbsent(path: string): Promise<boolean> {
  const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  // mkdir says EEXIST for a file in the way: not "someone made the key".
  await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch(
    (error: unknown) => {
      throw uncreatable(path, error);
    },
  );
  try {
    const handle = await open(temporary, "wx", 0o600);
    try {
      const text = `${randomBytes(SECRET_KEY_BYTES).toString("base64")}\n`;
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw uncreatable(path, error);
  } finally {
    await unlink(temporary).catch(() => {});
  }
}

function uncreatable(path: string, error: unknown): SecretKeyError {
  return new SecretKeyError(
    `secret key file ${path}: cannot be created (${messageOf(error)})`,
    "secret_key_uncreatable",
    { cause: error },
  );
}

async function readKeyFile(path: string): Promise<SecretKey> {
  const handle = await open(path, "r").catch((error: unknown) => {
    throw new SecretKeyError(
      `secret key file ${path}: cannot be read (${messageOf(error)})`,
      "secret_key_invalid",
      { cause: error },
    );
  });
  try {
    // The descriptor's own mode: the file checked is the file read.
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new SecretKeyError(
        `secret key file ${path}: is not a file`,
        "secret_key_invalid",
      );
    }
    if ((info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
      throw new SecretKeyError(
        `secret key file ${path}: group or others may access it (mode ` +
          `${mode}); allow only its owner: chmod 600 ${path}`,
        "secret_key_invalid",
      );
    }
    const text = await handle.readFile("utf8");
    return decodeKey(text, `secret key file ${path}`);
  } finally {
    await handle.close();
  }
}

/** Decodes base64 text that must hold exactly 32 bytes. */
function decodeKey(text: string, where: string): SecretKey {
  const trimmed = text.trim();
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)
    ? Buffer.from(trimmed, "base64")
    : Buffer.alloc(0);
  if (bytes.length !== SECRET_KEY_BYTES) {
    throw new SecretKeyError(
      `${where}: must be base64 of ${SECRET_KEY_BYTES} bytes ` +
        `(make one with: openssl rand -base64 32), got ${bytes.length} bytes`,
      "secret_key_invalid",
    );
  }
  return secretKeyOf(bytes);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
