import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DEERFLOW_BIN,
  deerflowNodeFlags,
  nodeFlagsOfShebang,
} from "./deerflow-command.js";

describe("deerflow command", () => {
  it("reads node flags from an env -S shebang", () => {
    expect(
      nodeFlagsOfShebang("#!/usr/bin/env -S node --max-semi-space-size=64"),
    ).toEqual(["--max-semi-space-size=64"]);
    expect(nodeFlagsOfShebang("#!/usr/bin/env -S node  --a  --b=2 ")).toEqual([
      "--a",
      "--b=2",
    ]);
    expect(nodeFlagsOfShebang("#!/usr/bin/env node")).toEqual([]);
    expect(nodeFlagsOfShebang("// not a shebang")).toEqual([]);
    expect(nodeFlagsOfShebang("#!/usr/bin/env -S python3 -u")).toEqual([]);
  });

  it("gives node the command's flags when run through its shebang", async () => {
    expect(deerflowNodeFlags()).toEqual(["--max-semi-space-size=64"]);
    // The command's own first line over a script that prints what node got.
    const dir = await mkdtemp(join(tmpdir(), "deerflow-shebang-"));
    try {
      const script = join(dir, "print-exec-argv.js");
      const shebang = readFileSync(DEERFLOW_BIN, "utf8").split("\n", 1)[0];
      await writeFile(
        script,
        `${shebang}\nconsole.log(JSON.stringify(process.execArgv));\n`,
        { mode: 0o755 },
      );
      const out = execFileSync(script, { encoding: "utf8" });
      expect(JSON.parse(out)).toEqual(["--max-semi-space-size=64"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
