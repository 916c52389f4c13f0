import { describe, expect, it } from "vitest";
import {
  describeSecretSource,
  readSecretSource,
  type SecretSource,
} from "./secret-sources.js";
import { echo, problemsOf, validate, workflow } from "./test-support.js";
import type { Problem } from "./workflow-definition.js";

const lines = (problems: Problem[]) =>
  problems.map((p) => `${p.taskId} ${p.field}: ${p.message}`);

function read(value: unknown): SecretSource | string[] {
  const problems: string[] = [];
  const source = readSecretSource(value, "secrets.X", (field, message) =>
    problems.push(`${field}: ${message}`),
  );
  return source ?? problems;
}

describe("the task secrets block", () => {
  it("accepts the four providers and keeps the block as written", () => {
    const secrets = {
      WAREHOUSE_URL: "warehouse_url",
      API_TOKEN: { provider: "env", name: "API_TOKEN" },
      DB_PASS: { provider: "vault", path: "app/db", key: "password" },
      K8S_TOKEN: {
        provider: "kubernetes",
        namespace: "ops",
        name: "app",
        key: "token",
      },
      STORED: { provider: "store", name: "stored_value" },
    };
    const { definition, problems } = validate(workflow(echo("a", { secrets })));
    expect(problems).toEqual([]);
    expect(definition?.tasks[0]?.secrets).toEqual(secrets);
  });

  it("fills in the defaults of vault and kubernetes entries", () => {
    expect(read({ provider: "vault", path: "app/db", key: "pw" })).toEqual({
      provider: "vault",
      mount: "secret",
      path: "app/db",
      key: "pw",
    });
    expect(read({ provider: "kubernetes", name: "app", key: "t" })).toEqual({
      provider: "kubernetes",
      namespace: "default",
      name: "app",
      key: "t",
    });
    expect(read("db_url")).toEqual({ provider: "store", name: "db_url" });
  });

  it("names the task and the field of every mistake, all at once", () => {
    const problems = problemsOf(
      workflow(
        echo("a", {
          secrets: {
            "bad-name": "x",
            STORE: "warehouse-url",
            NOPE: { provider: "ssm", name: "x" },
            NONE: { name: "x" },
            VAULT: { provider: "vault", path: "../etc", mount: 3 },
            KUBE: {
              provider: "kubernetes",
              namespace: "Ops",
              name: "app",
              key: "t",
              extra: true,
            },
            LIST: ["x"],
          },
        }),
      ),
    );
    expect(lines(problems)).toEqual([
      'a secrets.bad-name: the name the task sees "bad-name" must match ' +
        '[A-Za-z_][A-Za-z0-9_]* (letters, digits, "_")',
      'a secrets.STORE: the built-in store name "warehouse-url" must ' +
        'match [A-Za-z_][A-Za-z0-9_]* (letters, digits, "_")',
      'a secrets.NOPE.provider: "ssm" is unknown (providers: store, env, ' +
        "vault, kubernetes)",
      "a secrets.NONE.provider: is required (providers: store, env, " +
        "vault, kubernetes)",
      "a secrets.VAULT.mount: must be a string, not a number",
      'a secrets.VAULT.path: "../etc" must be segments joined by "/", ' +
        "each of letters, digits and _ . @ + = - (no empty, " +
        '"." or ".." segment)',
      "a secrets.VAULT.key: is required",
      'a secrets.KUBE.extra: unknown field "extra" for provider ' +
        "kubernetes (known: provider, namespace, name, key)",
      'a secrets.KUBE.namespace: "Ops" is not a DNS label (at most 63 ' +
        "characters)",
      "a secrets.LIST: must be a built-in store name or { provider, ... }, " +
        "not a list",
    ]);
  });

  it("is a map", () => {
    const problems = problemsOf(workflow(echo("a", { secrets: ["X"] })));
    expect(lines(problems)).toEqual([
      "a secrets: must be a map of secret names to sources, not a list",
    ]);
  });

  it("describes a source without any value", () => {
    expect(
      describeSecretSource({
        provider: "vault",
        mount: "kv",
        path: "app/db",
        key: "pw",
      }),
    ).toBe("vault kv/app/db#pw");
    expect(
      describeSecretSource({
        provider: "kubernetes",
        namespace: "ops",
        name: "app",
        key: "token",
      }),
    ).toBe("kubernetes ops/app#token");
  });
});
