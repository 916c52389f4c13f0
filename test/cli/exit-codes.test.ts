import { describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.js";

// Nothing listens on port 9 (discard) on loopback: a command that got as
// far as calling the server would say "cannot reach", not what is tested.
const NOWHERE = { DEERFLOW_SERVER: "http://127.0.0.1:9" };

describe("exit codes of command-line mistakes (README: 2 for bad flags)", () => {
  it.each([
    [["run", "x.yaml", "--bogus"], "error: unknown option '--bogus'"],
    [["runs", "ls", "--bogus"], "error: unknown option '--bogus'"],
    [["agents", "ls", "--bogus"], "error: unknown option '--bogus'"],
    [["--bogus"], "error: unknown option '--bogus'"],
    [["run"], "error: missing required argument 'file'"],
    [["runs", "get"], "error: missing required argument 'run-id'"],
    [
      ["runs", "ls", "--limit", "1e1"],
      '--limit: expected a whole number from 1 to 2147483647, got "1e1"',
    ],
    [
      ["logs", "00000000-0000-4000-8000-000000000000", "t", "--attempt", "0x1"],
      '--attempt: expected a whole number from 1 to 2147483647, got "0x1"',
    ],
    [
      ["workflows", "get", "nightly@0x1"],
      '"nightly@0x1": expected NAME or NAME@VERSION (a version from 1)',
    ],
    // An empty folder would be the current one: its modules run as plugins.
    [
      ["agent", "--plugins", ""],
      "--plugins: expected a path, got an empty value",
    ],
    [
      ["agent", "--plugin", " "],
      "--plugin: expected a path, got an empty value",
    ],
    [
      ["agent", "--state-dir", ""],
      "--state-dir: expected a path, got an empty value",
    ],
    [
      ["server", "--kubeconfig", ""],
      "--kubeconfig: expected a path, got an empty value",
    ],
    [["dev", ""], "FILE: expected a path, got an empty value"],
  ])("deerflow %j exits 2 with commander's message", async (args, said) => {
    const result = await runCli(args, NOWHERE);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(said);
  });

  it("runs watch with no control plane there fails at once, as runs get does", async () => {
    // Never reached: a wrong --server, not an outage to wait out.
    for (const command of ["watch", "get"]) {
      const result = await runCli(
        ["runs", command, "00000000-0000-4000-8000-000000000000"],
        NOWHERE,
      );
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain("cannot reach the control plane");
    }
  });

  it("--help and --version still exit 0", async () => {
    expect((await runCli(["--version"])).code).toBe(0);
    expect((await runCli(["run", "--help"])).code).toBe(0);
  });

  it("--server that is not a URL names the flag and exits 2", async () => {
    const result = await runCli(["runs", "ls", "--server", "notaurl"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '--server: "notaurl" is not a URL (e.g. http://127.0.0.1:7070)',
    );
  });

  it("a server timing out of its bounds names the flag and exits 2", async () => {
    const ttl = await runCli(["server", "--lease-ttl-ms", "10"]);
    expect(ttl.code).toBe(2);
    expect(ttl.stderr).toBe(
      'deerflow: --lease-ttl-ms: expected a whole number from 1000 to 3600000, got "10"\n',
    );
    const ack = await runCli(["server", "--ack-deadline-ms", "99999999"]);
    expect(ack.code).toBe(2);
    expect(ack.stderr).toMatch(/^deerflow: --ack-deadline-ms: expected/);
    const statement = await runCli(["server", "--statement-timeout-ms", "-1"]);
    expect(statement.code).toBe(2);
    expect(statement.stderr).toBe(
      'deerflow: --statement-timeout-ms: expected a whole number from 0 to 86400000, got "-1"\n',
    );
  });

  it("a database timeout in the environment out of its bounds names the variable", async () => {
    const result = await runCli(["server"], {
      DEERFLOW_IDLE_IN_TRANSACTION_TIMEOUT_MS: "1e3",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'deerflow: DEERFLOW_IDLE_IN_TRANSACTION_TIMEOUT_MS must be a whole number of ms from 0 to 86400000 (0 for none), got "1e3"\n',
    );
  });

  it("DEERFLOW_SERVER that is not a URL names the variable", async () => {
    const result = await runCli(["runs", "ls"], {
      DEERFLOW_SERVER: "localhost:7070",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'DEERFLOW_SERVER: "localhost:7070" is not a URL',
    );
  });

  it("a missing file says so in words and exits 2", async () => {
    for (const command of ["run", "validate"]) {
      const result = await runCli([command, "no-such-file.yaml"], NOWHERE);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        "cannot read no-such-file.yaml: no such file",
      );
      expect(result.stderr).not.toContain("ENOENT");
    }
  });
});
