import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  SecretProviderError,
  VaultSecretReader,
} from "../../control-plane/secrets/index.js";
import { startVaultStandIn, type VaultStandIn } from "./vault-stand-in.js";

const TOKEN = "s.stand-in-token";

async function providerError(call: Promise<unknown>) {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecretProviderError);
  return error as SecretProviderError;
}

const source = (path: string, key: string, mount = "secret") => ({
  provider: "vault" as const,
  mount,
  path,
  key,
});

describe("the vault provider against a Vault KV v2 stand-in", () => {
  let vault: VaultStandIn;
  let reader: VaultSecretReader;

  beforeEach(async () => {
    vault = await startVaultStandIn({
      token: TOKEN,
      namespace: "team-a",
      secrets: {
        "secret/app/db": { password: "hunter2-db", port: 5432 },
        "kv/team one/api": { token: "t-1" },
      },
    });
    reader = new VaultSecretReader({
      addr: vault.addr,
      token: TOKEN,
      namespace: "team-a",
    });
  });

  afterEach(async () => {
    await vault.close();
  });

  const signal = () => AbortSignal.timeout(10_000);

  it("reads data.data[key] with the token and namespace headers", async () => {
    expect(await reader.read(source("app/db", "password"), signal())).toBe(
      "hunter2-db",
    );
    expect(vault.requests[0]).toEqual({
      method: "GET",
      path: "/v1/secret/data/app/db",
      token: TOKEN,
      namespace: "team-a",
    });
  });

  it("gives other JSON values as JSON text", async () => {
    expect(await reader.read(source("app/db", "port"), signal())).toBe("5432");
  });

  it("percent-encodes each segment of mount and path", async () => {
    const value = await reader.read(
      source("team one/api", "token", "kv"),
      signal(),
    );
    expect(value).toBe("t-1");
    expect(vault.requests.at(-1)?.path).toBe("/v1/kv/data/team%20one/api");
  });

  it("names what is missing: the secret, or its key", async () => {
    const missing = await providerError(
      reader.read(source("app/nope", "password"), signal()),
    );
    expect(missing.code).toBe("secret_not_found");
    expect(missing.message).toBe("Vault has no secret at secret/app/nope");
    const noKey = await providerError(
      reader.read(source("app/db", "user"), signal()),
    );
    expect(noKey.message).toBe(
      'Vault\'s secret at secret/app/db has no key "user"',
    );
  });

  it("says when Vault refuses the token, without the token", async () => {
    const wrong = new VaultSecretReader({
      addr: vault.addr,
      token: "s.wrong",
      namespace: "team-a",
    });
    const error = await providerError(
      wrong.read(source("app/db", "password"), signal()),
    );
    expect(error.code).toBe("secret_access_denied");
    expect(error.message).toContain("HTTP 403");
    expect(error.message).not.toContain("s.wrong");
  });

  it("gives up when Vault does not answer in time", async () => {
    vault.hang.add("secret/app/db");
    const error = await providerError(
      reader.read(source("app/db", "password"), AbortSignal.timeout(200)),
    );
    expect(error.code).toBe("secret_provider_unavailable");
    expect(error.message).toBe(
      "Vault did not answer in time for secret/app/db",
    );
  });

  it("says when no Vault is configured or none listens", async () => {
    const none = new VaultSecretReader(undefined);
    const error = await providerError(
      none.read(source("app/db", "password"), signal()),
    );
    expect(error.code).toBe("secret_provider_not_configured");
    expect(error.message).toContain("--vault-addr");
    const addr = vault.addr;
    await vault.close();
    const gone = new VaultSecretReader({ addr, token: TOKEN });
    const unreachable = await providerError(
      gone.read(source("app/db", "password"), signal()),
    );
    expect(unreachable.message).toBe(
      `Vault at ${addr} cannot be reached (ECONNREFUSED)`,
    );
    vault = await startVaultStandIn({ token: TOKEN, secrets: {} });
  });
});
