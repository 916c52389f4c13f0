import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../../core/index.js";
import { createSecretService } from "../api/secret-service.js";
import type { Db } from "../db/index.js";
import { openSecrets } from "./open-secrets.js";
import { resolveSecretOptions } from "./secret-options.js";

describe("opening the secrets of a control plane", () => {
  let dir: string;
  // Never touched: these paths fail before the store reads anything.
  const deps = { db: {} as Db, clock: systemClock, logger: silentLogger() };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "deerflow-open-secrets-"));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("starts without a store when the default key file cannot be made", async () => {
    const blocker = join(dir, "not-a-dir");
    await writeFile(blocker, "");
    const options = resolveSecretOptions(
      {},
      { dataDir: blocker, databaseUrl: undefined },
      {},
    );
    const secrets = await openSecrets(options, deps);
    expect(secrets.store).toBeUndefined();
    expect(secrets.storeProblem).toContain(join(blocker, "secret.key"));
    const service = createSecretService(secrets);
    const error = await Promise.resolve()
      .then(() => service.listSecrets({} as never, {} as never))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((error as ConnectError).rawMessage).toContain(
      "the secret store has no key",
    );
  });

  it("logs with the process's component once, and its own subsystem", async () => {
    const blocker = join(dir, "not-a-dir");
    await writeFile(blocker, "");
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
        done();
      },
    });
    const logger = pino({ base: { component: "control-plane" } }, sink);
    const options = resolveSecretOptions(
      {},
      { dataDir: blocker, databaseUrl: undefined },
      {},
    );
    await openSecrets(options, { ...deps, logger });
    const [line] = lines;
    expect(line?.match(/"component":/g)).toHaveLength(1);
    expect(JSON.parse(line ?? "{}")).toMatchObject({
      component: "control-plane",
      subsystem: "secrets",
      msg: "secret store disabled: no key",
    });
  });

  it("refuses to start when the operator's key file cannot be made", async () => {
    const blocker = join(dir, "not-a-dir");
    await writeFile(blocker, "");
    const options = resolveSecretOptions(
      { keyFile: join(blocker, "secret.key") },
      { dataDir: dir, databaseUrl: undefined },
      {},
    );
    await expect(openSecrets(options, deps)).rejects.toThrow(
      `secret key file ${join(blocker, "secret.key")}: cannot be created`,
    );
  });

  it("takes defaults from the environment and checks them", () => {
    const env = {
      DEERFLOW_SECRET_KEY: "a2V5",
      VAULT_ADDR: "http://127.0.0.1:8200",
      VAULT_TOKEN: "t",
      DEERFLOW_ENV_SECRETS: "API_TOKEN, APP_*,",
    };
    const options = resolveSecretOptions(
      {},
      { dataDir: "", databaseUrl: "postgres://db/x" },
      env,
    );
    expect(options.key).toBe("a2V5");
    expect(options.keyFile).toMatch(/\.deerflow\/secret\.key$/);
    expect(options.vault).toEqual({
      addr: "http://127.0.0.1:8200",
      token: "t",
    });
    expect(options.envAllow).toEqual(["API_TOKEN", "APP_*"]);
    expect(() =>
      resolveSecretOptions(
        {},
        { dataDir: "d", databaseUrl: undefined },
        {
          VAULT_ADDR: "vault:8200",
          VAULT_TOKEN: "t",
        },
      ),
    ).toThrow(
      'VAULT_ADDR must be an http(s) URL (e.g. https://vault:8200), got "vault:8200"',
    );
    expect(() =>
      resolveSecretOptions(
        { vaultAddr: "http://v" },
        { dataDir: "d", databaseUrl: undefined },
        {},
      ),
    ).toThrow("vaultToken (or VAULT_TOKEN) is required with vaultAddr");
  });
});
