import { describe, expect, it } from "vitest";
import type { SecretSource } from "../../workflow/index.js";
import { SecretProviderError } from "./secret-provider-error.js";
import type { SecretReader } from "./secret-reader.js";
import {
  type SecretReaders,
  SecretResolutionError,
  SecretResolver,
  taskSecretSources,
} from "./secret-resolver.js";

/** Readers that answer from a map, or never. */
function readers(values: Record<string, string>): SecretReaders {
  const reader: SecretReader = {
    read: (source: SecretSource, signal: AbortSignal) => {
      const key = JSON.stringify(source);
      if (key in values) return Promise.resolve(values[key] as string);
      if (source.provider === "kubernetes") {
        return new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(new Error("aborted"))),
        );
      }
      return Promise.reject(
        new SecretProviderError("not there", "secret_not_found"),
      );
    },
  };
  return { store: reader, env: reader, vault: reader, kubernetes: reader };
}

const key = (source: SecretSource) => JSON.stringify(source);

describe("resolving a task's secrets", () => {
  it("takes the block and the store names its templates read", () => {
    const sources = taskSecretSources({
      taskId: "t",
      config: { command: "x ${secrets.TOKEN} ${secrets.FROM_STORE}" },
      secretsBlock: { TOKEN: { provider: "env", name: "API_TOKEN" } },
    });
    expect(Object.fromEntries(sources)).toEqual({
      TOKEN: { provider: "env", name: "API_TOKEN" },
      FROM_STORE: { provider: "store", name: "FROM_STORE" },
    });
  });

  it("resolves every secret by the name the task sees", async () => {
    const resolver = new SecretResolver(
      readers({
        [key({ provider: "env", name: "API_TOKEN" })]: "tok",
        [key({ provider: "store", name: "db_url" })]: "pg://",
      }),
      1000,
    );
    const request = {
      taskId: "t",
      config: {},
      secretsBlock: {
        TOKEN: { provider: "env", name: "API_TOKEN" },
        DB: "db_url",
      },
    };
    expect(resolver.needsSecrets(request)).toBe(true);
    expect(await resolver.resolve(request)).toEqual({
      TOKEN: "tok",
      DB: "pg://",
    });
    expect(resolver.needsSecrets({ taskId: "t", config: { a: "b" } })).toBe(
      false,
    );
  });

  it("fails naming the task, the secret and the provider", async () => {
    const resolver = new SecretResolver(readers({}), 1000);
    const error = await resolver
      .resolve({
        taskId: "load",
        config: {},
        secretsBlock: {
          DB_PASS: { provider: "vault", path: "app/db", key: "pw" },
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretResolutionError);
    expect((error as Error).message).toBe(
      "task load: secret DB_PASS (vault secret/app/db#pw) could not be " +
        "resolved: not there",
    );
  });

  it("refuses a value with a NUL, never quoting it", async () => {
    const resolver = new SecretResolver(
      readers({
        [key({ provider: "store", name: "db_pass" })]: "top\u0000secret",
      }),
      1000,
    );
    const error = await resolver
      .resolve({
        taskId: "load",
        config: {},
        secretsBlock: { DB_PASS: "db_pass" },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretResolutionError);
    expect((error as Error).message).toMatch(
      /could not be resolved: the value holds a NUL character \(\\u0000\), which an environment variable cannot carry$/,
    );
    expect((error as Error).message).not.toContain("top");
  });

  it("gives up after its timeout", async () => {
    const resolver = new SecretResolver(readers({}), 100);
    const error = await resolver
      .resolve({
        taskId: "t",
        config: {},
        secretsBlock: {
          K: { provider: "kubernetes", name: "app", key: "k" },
        },
      })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      "task t: secret K (kubernetes default/app#k) could not be resolved: " +
        "no answer within 100 ms",
    );
  });
});
