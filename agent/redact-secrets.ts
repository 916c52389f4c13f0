import type { JsonValue } from "../plugin-sdk/index.js";

/**
 * Values shorter than this are not redacted: replacing every "a" or "42"
 * would wreck the output and hide nothing worth hiding.
 */
export const MIN_REDACTED_CHARS = 4;

/**
 * Replaces the attempt's secret values with `[REDACTED:NAME]` in what
 * leaves the agent: log lines, stdout and stderr, outputs and errors.
 *
 * Besides each value it matches the forms a value commonly takes on its
 * way out: JSON-escaped (a value inside printed JSON), shell-escaped
 * (inside '...' or "..."), and each line of a multi-line value, since
 * output travels line by line. It cannot see a value that was encoded
 * (base64, hex), split across writes other than by lines, or cut in half
 * by a tail or a length cap; those are the task's to avoid.
 */
export class SecretRedactor {
  private readonly pattern: RegExp | undefined;
  private readonly names = new Map<string, string>();

  constructor(secrets: Readonly<Record<string, string>>) {
    for (const [name, value] of Object.entries(secrets)) {
      for (const form of formsOf(value)) {
        if (form.length < MIN_REDACTED_CHARS) continue;
        // Two secrets with one value: the first name stands for both.
        if (!this.names.has(form)) this.names.set(form, name);
      }
    }
    const forms = [...this.names.keys()].sort((a, b) => b.length - a.length);
    // Longest first: at any position the longest form wins, so a value's
    // line never leaves the rest of the value showing.
    this.pattern =
      forms.length === 0
        ? undefined
        : new RegExp(forms.map(escapeRegExp).join("|"), "g");
  }

  /** Whether there is anything to redact. */
  get active(): boolean {
    return this.pattern !== undefined;
  }

  /** The text with every secret form replaced. */
  text(text: string): string {
    const pattern = this.pattern;
    if (pattern === undefined || text.length < MIN_REDACTED_CHARS) return text;
    return text.replace(
      pattern,
      (found) => `[REDACTED:${this.names.get(found) ?? "?"}]`,
    );
  }

  /** A JSON value with every string and object key redacted. */
  json<T extends JsonValue>(value: T): T {
    if (this.pattern === undefined) return value;
    return this.walk(value) as T;
  }

  private walk(value: JsonValue): JsonValue {
    if (typeof value === "string") return this.text(value);
    if (Array.isArray(value)) return value.map((item) => this.walk(item));
    if (value !== null && typeof value === "object") {
      const out: { [key: string]: JsonValue } = {};
      for (const [key, item] of Object.entries(value)) {
        Object.defineProperty(out, this.text(key), {
          value: this.walk(item),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return value;
  }
}

/** The value, its escaped forms, and its lines. */
function formsOf(value: string): Set<string> {
  const forms = new Set<string>([value]);
  forms.add(JSON.stringify(value).slice(1, -1));
  forms.add(value.replaceAll("'", "'\\''"));
  forms.add(value.replace(/[\\"$`]/g, "\\$&"));
  if (/[\r\n]/.test(value)) {
    for (const line of value.split(/\r?\n|\r/)) {
      // A blank or short line would match all over unrelated output.
      if (line.trim().length >= MIN_REDACTED_CHARS) forms.add(line);
    }
  }
  return forms;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
