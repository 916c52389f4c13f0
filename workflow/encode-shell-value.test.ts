import { execFile } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { JsonObject, JsonValue } from "../plugin-sdk/index.js";
import { encodeShellValue } from "./encode-shell-value.js";
import { renderConfig } from "./render-config.js";
import type { TemplateContext } from "./template-context.js";
import { TemplateError } from "./template-error.js";
import { shellSchema } from "./test-support.js";

const run = promisify(execFile);

// The shells run in this directory: a value that escaped its quotes would
// create `pwned` here, or glob `*` into `decoy`.
const dir = mkdtempSync(join(tmpdir(), "deerflow-shell-encoding-"));
const pwned = join(dir, "pwned");
writeFileSync(join(dir, "decoy"), "");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => rmSync(pwned, { force: true }));

const HOSTILE: string[] = [
  "it's",
  'say "hi"',
  "a; touch PWNED",
  "$(touch PWNED)",
  "`touch PWNED`",
  "${HOME}",
  "$HOME $1 $@",
  "\\",
  "back\\slash\\",
  "a\\\nb",
  "line one\nline two\n",
  "\ntouch PWNED\n",
  "tab\there\t",
  "unicode: héllo ✓ 日本語 🚀",
  "",
  "*",
  "-n",
  "'\"'\"'",
  "'; touch PWNED; '",
  '"; touch PWNED; "',
  '\\"; touch PWNED #',
  "$((1+1)) $[1+1] ${#HOME}",
  "!! ~ } ) ( # EOF",
].map((value) => value.replaceAll("PWNED", pwned));

/** A command with templates, and what it prints for a value's text. */
interface Case {
  command: string;
  expected: (text: string) => string;
}

const CASES: Record<string, Case> = {
  unquoted: {
    command: "printf '%s\\n' ${params.v}",
    expected: (text) => `${text}\n`,
  },
  "unquoted, in a word": {
    command: "printf '%s\\n' pre${params.v}post",
    expected: (text) => `pre${text}post\n`,
  },
  "inside double quotes": {
    command: "printf '%s\\n' \"pre ${params.v} post\"",
    expected: (text) => `pre ${text} post\n`,
  },
  "inside single quotes": {
    command: "printf '%s\\n' 'pre ${params.v} post'",
    expected: (text) => `pre ${text} post\n`,
  },
  "in a comment": {
    command: "printf '%s\\n' ok # it's ${params.v} \"",
    expected: () => "ok\n",
  },
  "in $(...) inside double quotes": {
    command: `printf '%s\\n' "$(printf '%s' "pre \${params.v} post")"`,
    expected: (text) => `pre ${text} post\n`,
  },
  "in single quotes in $(...)": {
    command: `printf '%s\\n' "$(printf '%s' 'pre \${params.v} post')"`,
    expected: (text) => `pre ${text} post\n`,
  },
  "in all three at once": {
    command: "printf '[%s]' ${params.v} \"${params.v}\" '${params.v}'",
    expected: (text) => `[${text}]`.repeat(3),
  },
};

function context(params: JsonObject): TemplateContext {
  return {
    params,
    tasks: {},
    run: { id: "run-1", name: "wf", started_at: "2026-12-01T00:00:00Z" },
    task: { id: "t", attempt: 1 },
  };
}

function render(command: string, value: JsonValue): string {
  const config = renderConfig({ command }, shellSchema, context({ v: value }));
  return String(config.command);
}

/** Runs a command with a real shell in the test directory. */
async function shell(path: string, command: string): Promise<string> {
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nowhere" };
  const { stdout } = await run(path, ["-c", command], { cwd: dir, env });
  return stdout;
}

describe.each(["/bin/sh", "/bin/bash"])("shell encoding with %s", (path) => {
  describe.each(Object.entries(CASES))("%s", (_, { command, expected }) => {
    it.each(HOSTILE)("prints %j exactly and runs nothing", async (value) => {
      const printed = await shell(path, render(command, value));
      expect(printed).toBe(expected(value));
      expect(existsSync(pwned)).toBe(false);
    });

    it("writes lists and objects as their JSON text", async () => {
      const value = { k: `v'"\`$(touch ${pwned})\\`, n: [1, true, null] };
      const printed = await shell(path, render(command, value));
      expect(printed).toBe(expected(JSON.stringify(value)));
      expect(existsSync(pwned)).toBe(false);
    });

    it("writes numbers and booleans as their text", async () => {
      expect(await shell(path, render(command, -1.5))).toBe(expected("-1.5"));
      expect(await shell(path, render(command, false))).toBe(expected("false"));
    });
  });

  it("keeps a value in the double quotes a tester broke out of", async () => {
    const command = 'echo "value is ${params.v}" > out';
    const value = `$(touch ${pwned})`;
    await shell(path, render(command, value));
    expect(readFileSync(join(dir, "out"), "utf8")).toBe(`value is ${value}\n`);
    expect(existsSync(pwned)).toBe(false);
  });
});

describe("encodeShellValue", () => {
  it("writes each context's form", () => {
    const text = `a'b"c$d\`e\\f`;
    expect(encodeShellValue(text, "unquoted")).toBe(`'a'\\''b"c$d\`e\\f'`);
    expect(encodeShellValue(text, "double")).toBe(`a'b\\"c\\$d\\\`e\\\\f`);
    expect(encodeShellValue(text, "single")).toBe(`''a'\\''b"c$d\`e\\f''`);
    expect(encodeShellValue("a\nb", "comment")).toBe("'a\\nb'");
    expect(encodeShellValue("", "single")).toBe("''''");
  });
});

describe("renderConfig refuses a shell field", () => {
  it.each([
    ["cat <<EOF\n${params.v}\nEOF", /here-document body/],
    ["echo \\${params.v}", /follows a backslash/],
    ["echo `echo ${params.v}`", /command substitution/],
    ['echo "${params.v}', /the command is incomplete: a " is not closed/],
  ])("%j, naming the field", (command, message) => {
    const attempt = () => render(command, "x");
    expect(attempt).toThrow(TemplateError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect((error as TemplateError).field).toBe("config.command");
    }
  });
});
