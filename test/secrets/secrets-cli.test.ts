import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secrets } from "../../control-plane/db/index.js";
import {
  decryptSecret,
  loadSecretKey,
} from "../../control-plane/secrets/index.js";
import type { CliResult } from "../support/run-cli.js";
import { testBackends } from "../support/test-database.js";
import {
  type SecretsControlPlane,
  startSecretsControlPlane,
  uniqueSecret,
} from "./secrets-control-plane.js";

const BIN = fileURLToPath(new URL("../../bin/deerflow.js", import.meta.url));

/** Runs `deerflow ARGS` as a real process, writing `stdin` to it. */
function deerflow(args: string[], stdin = ""): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 99, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const [pglite] = testBackends();

describe("deerflow secrets put|ls|rm", () => {
  let cp: SecretsControlPlane;
  let dir: string;
  const server = () => ["--server", cp.url];

  beforeAll(async () => {
    if (!pglite) throw new Error("no PGlite backend");
    cp = await startSecretsControlPlane(pglite);
    dir = await mkdtemp(join(tmpdir(), "deerflow-secrets-cli-"));
  });

  afterAll(async () => {
    await cp?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("puts from --value, stdin and a file; lists names only; removes", async () => {
    const fromFlag = uniqueSecret("flag");
    const fromStdin = uniqueSecret("stdin");
    const fromFile = uniqueSecret("file");
    const put = await deerflow([
      "secrets",
      "put",
      "API_TOKEN",
      "--value",
      fromFlag,
      ...server(),
    ]);
    expect(put, put.stderr).toMatchObject({
      code: 0,
      stdout: "secret API_TOKEN created\n",
    });
    const replaced = await deerflow(
      ["secrets", "put", "API_TOKEN", ...server()],
      `${fromStdin}\n`,
    );
    expect(replaced.stdout).toBe("secret API_TOKEN replaced\n");
    const file = join(dir, "value.txt");
    await writeFile(file, `${fromFile}\n`);
    const filed = await deerflow([
      "secrets",
      "put",
      "FROM_FILE",
      "--from-file",
      file,
      ...server(),
    ]);
    expect(filed.code, filed.stderr).toBe(0);

    const ls = await deerflow(["secrets", "ls", ...server()]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/^NAME +CREATED +UPDATED\nAPI_TOKEN +\d{4}-/);
    expect(ls.stdout).toContain("FROM_FILE");
    const json = await deerflow(["secrets", "ls", "--json", ...server()]);
    const listed = JSON.parse(json.stdout) as Array<{ name: string }>;
    expect(listed.map((s) => s.name)).toEqual(["API_TOKEN", "FROM_FILE"]);
    for (const value of [fromFlag, fromStdin, fromFile]) {
      expect(ls.stdout + json.stdout).not.toContain(value);
    }
    // What was stored, decrypted with the server's key: the trailing
    // newline of stdin and of the file is not part of the value.
    const { key } = await loadSecretKey({ keyFile: cp.keyFile });
    const rows = await cp.controlPlane.database.db.select().from(secrets);
    const values = Object.fromEntries(
      rows.map((r) => [r.name, decryptSecret(key, r.name, r.ciphertext)]),
    );
    expect(values).toEqual({ API_TOKEN: fromStdin, FROM_FILE: fromFile });

    const removed = await deerflow(["secrets", "rm", "FROM_FILE", ...server()]);
    expect(removed).toMatchObject({
      code: 0,
      stdout: "secret FROM_FILE deleted\n",
    });
    const again = await deerflow(["secrets", "rm", "FROM_FILE", ...server()]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe('deerflow: secret "FROM_FILE" not found\n');
  }, 240_000);

  it("names the mistake and exits 2", async () => {
    const badName = await deerflow([
      "secrets",
      "put",
      "bad-name",
      "--value",
      "x",
      ...server(),
    ]);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('deerflow: name: "bad-name" must match');
    const both = await deerflow([
      "secrets",
      "put",
      "X",
      "--value",
      "x",
      "--from-file",
      "f",
      ...server(),
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--value and --from-file: give one");
    const missing = await deerflow([
      "secrets",
      "put",
      "X",
      "--from-file",
      join(dir, "nope"),
      ...server(),
    ]);
    expect(missing.stderr).toContain(
      `--from-file: cannot read ${join(dir, "nope")}: no such file`,
    );
    const binary = join(dir, "binary");
    await writeFile(binary, Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    const notText = await deerflow([
      "secrets",
      "put",
      "X",
      "--from-file",
      binary,
      ...server(),
    ]);
    expect(notText.code).toBe(2);
    expect(notText.stderr).toContain("is not UTF-8 text");
    const empty = await deerflow(["secrets", "put", "X", ...server()], "");
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("deerflow: value: is required");
  }, 240_000);
});
