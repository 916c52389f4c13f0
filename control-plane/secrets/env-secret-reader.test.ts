import { describe, expect, it } from "vitest";
import { EnvSecretReader } from "./env-secret-reader.js";
import { SecretProviderError } from "./secret-provider-error.js";

const env = {
  API_TOKEN: "tok-1234",
  APP_DB: "db-5678",
  DATABASE_URL: "postgres://u:pw@db/x",
  DEERFLOW_SECRET_KEY: "a2V5",
};

async function refusal(reader: EnvSecretReader, name: string) {
  const error = await reader.read({ provider: "env", name }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecretProviderError);
  return error as SecretProviderError;
}

describe("the env provider", () => {
  it("shares allowed names and prefixes only", async () => {
    const reader = new EnvSecretReader(["API_TOKEN", "APP_*"], env);
    expect(await reader.read({ provider: "env", name: "API_TOKEN" })).toBe(
      "tok-1234",
    );
    expect(await reader.read({ provider: "env", name: "APP_DB" })).toBe(
      "db-5678",
    );
    const denied = await refusal(reader, "HOME");
    expect(denied.code).toBe("secret_access_denied");
    expect(denied.message).toContain("(allowed: API_TOKEN, APP_*;");
  });

  it("never shares the control plane's own credentials", async () => {
    const reader = new EnvSecretReader(["*"], env);
    for (const name of ["DATABASE_URL", "DEERFLOW_SECRET_KEY", "VAULT_TOKEN"]) {
      const error = await refusal(reader, name);
      expect(error.code).toBe("secret_access_denied");
      expect(error.message).not.toContain("pw@db");
    }
  });

  it("says when an allowed variable is not set", async () => {
    const reader = new EnvSecretReader(["MISSING"], env);
    const error = await refusal(reader, "MISSING");
    expect(error.code).toBe("secret_not_found");
  });
});
