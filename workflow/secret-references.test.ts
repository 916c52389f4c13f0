import { parse } from "@bufbuild/cel";
import { describe, expect, it } from "vitest";
import { referencedSecrets, secretReads } from "./secret-references.js";
import { echo, problemsOf, validate, workflow } from "./test-support.js";
import type { Problem } from "./workflow-definition.js";

const lines = (problems: Problem[]) =>
  problems.map((p) => `${p.taskId} ${p.field}: ${p.message}`);

describe("reads of secrets in expressions", () => {
  it("finds secrets.NAME and secrets['NAME'], not bound names", () => {
    const reads = (source: string) => secretReads(parse(source).expr);
    expect(reads("secrets.A + secrets['B']")).toEqual({
      names: ["A", "B"],
      unnamed: 0,
    });
    expect(reads("has(secrets.C) ? 1 : 2").names).toEqual(["C"]);
    expect(reads("secrets[params.which]")).toEqual({ names: [], unnamed: 1 });
    expect(reads("string(secrets)")).toEqual({ names: [], unnamed: 1 });
    expect(reads("[1].map(secrets, secrets + 1)")).toEqual({
      names: [],
      unnamed: 0,
    });
  });

  it("lists every secret a config's templates read", () => {
    const config = {
      command: "curl -u ${secrets.USER}:${secrets['PASS']} ${params.url}",
      env: { A: "${secrets.USER}", B: "$${secrets.LITERAL}" },
      list: ["${1 +", "${secrets.IN_LIST}"],
    };
    expect([...referencedSecrets(config)].sort()).toEqual([
      "IN_LIST",
      "PASS",
      "USER",
    ]);
  });
});

describe("secret templates at submit", () => {
  it("accepts declared names and store names in templates", () => {
    const { problems } = validate(
      workflow(
        echo("a", {
          secrets: { TOKEN: { provider: "env", name: "API_TOKEN" } },
          command: "deploy --token ${secrets.TOKEN} --url ${secrets.DB_URL}",
        }),
      ),
    );
    expect(problems).toEqual([]);
  });

  it("refuses secrets in conditions and reads that name no secret", () => {
    const problems = problemsOf(
      workflow(
        echo("a", {
          command: "echo ${secrets[params.which]} ${secrets['a-b']}",
          condition: "secrets.TOKEN == 'x'",
          secrets: { TOKEN: "token" },
        }),
      ),
    );
    expect(lines(problems)).toEqual([
      'a config.command: param "which" is not declared in params ' +
        "(declared: none)",
      "a config.command: read a secret by its name (secrets.NAME or " +
        "secrets['NAME']), so the control plane knows which secrets the " +
        "task needs",
      'a config.command: secret "a-b" is not in the task\'s secrets ' +
        'block, and as a built-in store name it "a-b" must match ' +
        '[A-Za-z_][A-Za-z0-9_]* (letters, digits, "_")',
      "a condition: a condition cannot read secrets: it is evaluated by " +
        "the control plane, and secrets reach only the agent",
    ]);
  });
});
