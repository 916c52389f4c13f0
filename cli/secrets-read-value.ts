import { readFile } from "node:fs/promises";
import { UsageError } from "./key-value.js";

/** Where `secrets put` takes the value from. */
export interface SecretValueFlags {
  value?: string | undefined;
  fromFile?: string | undefined;
}

const READ_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: "no such file",
  EISDIR: "is a directory",
  EACCES: "permission denied",
};

/**
 * The value of `deerflow secrets put`: --value, else --from-file, else
 * standard input (never a terminal: the value would show as it is typed).
 * One trailing newline of a file or of stdin is dropped, so that
 * `echo "$TOKEN" | deerflow secrets put TOKEN` stores the token alone.
 * Bytes that are not UTF-8 are refused rather than silently changed.
 */
export async function readSecretValue(
  flags: SecretValueFlags,
  stdin: NodeJS.ReadStream = process.stdin,
): Promise<string> {
  if (flags.value !== undefined && flags.fromFile !== undefined) {
    throw new UsageError("--value and --from-file: give one of them, not both");
  }
  if (flags.value !== undefined) return flags.value;
  if (flags.fromFile !== undefined) {
    const file = flags.fromFile;
    const bytes = await readFile(file).catch((error: unknown) => {
      const { code, message } = error as NodeJS.ErrnoException;
      const why = (code && READ_ERRORS[code]) ?? message;
      throw new UsageError(`--from-file: cannot read ${file}: ${why}`);
    });
    return dropNewline(decode(bytes, `--from-file: ${file}`));
  }
  if (stdin.isTTY) {
    throw new UsageError(
      "give the value with --value, --from-file FILE, or on standard " +
        'input (printf %s "$VALUE" | deerflow secrets put NAME)',
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk));
  return dropNewline(decode(Buffer.concat(chunks), "standard input"));
}

function decode(bytes: Buffer, where: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(
      `${where} is not UTF-8 text (store binary secrets base64-encoded)`,
    );
  }
}

function dropNewline(text: string): string {
  if (text.endsWith("\r\n")) return text.slice(0, -2);
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}
