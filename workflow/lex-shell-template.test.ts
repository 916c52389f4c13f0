import { describe, expect, it } from "vitest";
import { lexShellTemplate } from "./lex-shell-template.js";
import { parseTemplate } from "./parse-template.js";

/** Each template's context, or "refused: <problem>". */
function contexts(command: string): string[] {
  return lexShellTemplate(parseTemplate(command)).slots.map((slot) =>
    "problem" in slot ? `refused: ${slot.problem}` : slot.context,
  );
}

function unterminated(command: string): string | undefined {
  return lexShellTemplate(parseTemplate(command)).unterminated;
}

describe("lexShellTemplate", () => {
  it.each([
    ["a ${x} \"b ${x}\" 'c ${x}' # ${x}", "unquoted double single comment"],
    [`"it's \${x}"`, "double"],
    [`'say "\${x}'`, "single"],
    [`"a \\" \${x}"`, "double"],
    [`a \\" \${x}`, "unquoted"],
    [`a \\' \${x}`, "unquoted"],
    [`"\\\\\${x}"`, "double"],
    [`'\\\${x}'`, "single"],
    ['echo $(echo ${x} "${x}")', "unquoted double"],
    ["\"$(echo '${x}')\" ${x}", "single unquoted"],
    ['"$(echo ")") ${x}"', "double"],
    ["echo $( (echo a) ; echo ${x}) ${x}", "unquoted unquoted"],
    ['echo "$${HOME}/${x}" ${x}', "double unquoted"],
    ['echo $"msg ${x}"', "double"],
    ["((i++)); echo ${x}", "unquoted"],
    ["echo `date` '${x}'", "single"],
  ])("finds the contexts in %j", (command, expected) => {
    expect(contexts(command)).toEqual(expected.split(" "));
    expect(unterminated(command)).toBeUndefined();
  });

  it("ignores quotes in comments and here-document bodies", () => {
    expect(contexts("# it's\necho ${x}")).toEqual(["unquoted"]);
    expect(contexts("echo a#b '${x}'")).toEqual(["single"]);
    expect(contexts("echo ${x}#'${x}'")).toEqual(["unquoted", "single"]);
    expect(contexts("cat <<'EOF'\nit's\nEOF\necho \"${x}\"")).toEqual([
      "double",
    ]);
    expect(contexts("cat <<-E\\OF\n\tit's\n\tEOF\necho ${x}")).toEqual([
      "unquoted",
    ]);
    expect(contexts("cat <<EOF # it's\nit's\nEOF\n'${x}'")).toEqual(["single"]);
    expect(contexts('cat <<A <<"B"\n"\nA\n\'\nB\n${x}')).toEqual(["unquoted"]);
  });

  it("follows a backslash-newline as a line continuation", () => {
    expect(contexts("echo \\\n${x}")).toEqual(["unquoted"]);
    expect(contexts('echo "a\\\n${x}"')).toEqual(["double"]);
  });

  it.each([
    ["echo \\${x}", /follows a backslash/],
    ['"\\${x}"', /follows a backslash/],
    ["cat <<EOF\n${x}\nEOF", /here-document body/],
    ["cat <<${x}\nEOF", /here-document's delimiter/],
    ["echo `echo ${x}`", /`...` command substitution/],
    ['echo "`echo ${x}`"', /`...` command substitution/],
    ["echo $${HOME:-${x}}", /\$\{\.\.\.\} parameter expansion/],
    ["echo $(( 1 + ${x} ))", /arithmetic/],
    ["(( n = ${x} ))", /arithmetic/],
    ["echo $[ ${x} ]", /arithmetic/],
    ["echo $'a ${x}'", /inside \$'\.\.\.'/],
  ])("refuses the template in %j", (command, problem) => {
    const [only] = contexts(command);
    expect(only).toMatch(/^refused: the template \$\{x\} /);
    expect(only).toMatch(problem);
  });

  it.each([
    ["x=$(case a in a) echo;; esac) ${x}", /a case statement inside/],
    ['echo "$${HOME:-"x"}" ${x}', /a \$\{\.\.\.\} expansion with quotes/],
    ["echo $'it\\'s' ${x}", /a \$'\.\.\.' string with a backslash/],
    ["echo $((a)+(b)) ${x}", /not closed by \)\)/],
    ["cat <<$$x\nEOF\n${x}", /a << delimiter with \$/],
  ])(
    "refuses every template after text it cannot follow: %j",
    (command, lost) => {
      const [only] = contexts(command);
      expect(only).toMatch(/comes after .* cannot follow/);
      expect(only).toMatch(lost);
    },
  );

  it("goes on after a refused template", () => {
    expect(contexts("cat <<EOF\n${x}\nEOF\necho '${x}'")).toEqual([
      expect.stringMatching(/here-document body/),
      "single",
    ]);
  });

  it.each([
    ['echo "${x}', 'a " is not closed'],
    ["echo '${x}", "a ' is not closed"],
    ["echo $(echo ${x}", "a $( is not closed"],
    ["echo ${x} `date", "a ` is not closed"],
    ["echo ${x} $${HOME", "a ${ is not closed"],
    ["echo ${x} <<EOF", "the here-document <<EOF has no body"],
    [
      "cat <<EOF\nbody ${x}",
      'the here-document <<EOF has no line "EOF" to end it',
    ],
  ])("reports %j as unterminated", (command, message) => {
    expect(unterminated(command)).toBe(message);
  });

  it("takes a quote inside a comment as no quote at the end", () => {
    expect(unterminated("echo ${x} # it's")).toBeUndefined();
  });
});
