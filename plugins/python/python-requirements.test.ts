import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NonRetryableError, pluginSdk } from "../../plugin-sdk/index.js";
import { type PluginRun, runPlugin } from "../../plugin-sdk/testing.js";
import type { PythonConfig } from "./python-config.js";
import { createPythonPlugin } from "./python-plugin.js";

/**
 * Writes a tiny pure-Python wheel, deerflow_demo 1.0.0, with the
 * standard library's zipfile: no package index is reachable here, and
 * the machine's Python has no `wheel` package to build one with.
 */
const MAKE_WHEEL = `
import base64, hashlib, os, sys, zipfile
name, version = "deerflow_demo", "1.0.0"
info = f"{name}-{version}.dist-info"
files = {
    f"{name}/__init__.py": "def greet(who):\\n    return 'hello ' + who\\n",
    f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
    f"{info}/WHEEL": "Wheel-Version: 1.0\\nGenerator: deerflow-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
path = os.path.join(sys.argv[1], f"{name}-{version}-py3-none-any.whl")
with zipfile.ZipFile(path, "w") as wheel:
    for member, text in files.items():
        data = text.encode()
        wheel.writestr(member, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
        record.append(f"{member},sha256={digest.rstrip(b'=').decode()},{len(data)}")
    record.append(f"{info}/RECORD,,")
    wheel.writestr(f"{info}/RECORD", "\\n".join(record) + "\\n")
`;

const CODE = [
  "import sys, deerflow_demo",
  "result = [deerflow_demo.greet('ada'), sys.prefix]",
].join("\n");

let root: string;
let wheels: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "deerflow-python-req-"));
  wheels = join(root, "wheels");
  await mkdir(wheels);
  await promisify(execFile)("python3", ["-c", MAKE_WHEEL, wheels]);
}, 60_000);

afterAll(() => rm(root, { recursive: true, force: true }));

/** A fresh cache directory per test, so each test sees its own builds. */
async function freshCache(): Promise<string> {
  return mkdtemp(join(root, "cache-"));
}

function runWith(cacheDir: string, config: Partial<PythonConfig>) {
  const plugin = createPythonPlugin({ cacheDir })(pluginSdk);
  return runPlugin(plugin, {
    config: { code: CODE, find_links: [wheels], ...config },
  });
}

function logged(run: PluginRun, message: string): number {
  return run.lines.filter((l) => l.stream === "log" && l.message === message)
    .length;
}

/** A virtualenv build takes seconds, and minutes on a loaded machine. */
const BUILD_TIMEOUT = { timeout: 300_000 };

describe("python plugin requirements", () => {
  it(
    "installs requirements into a cached virtualenv, then reuses it however spelled",
    BUILD_TIMEOUT,
    async () => {
      const cacheDir = await freshCache();
      const first = await runWith(cacheDir, {
        requirements: ["deerflow-demo==1.0.0"],
      });
      expect(first.outcome, first.error?.message).toBe("success");
      const [greeting, prefix] = first.output.result as [string, string];
      expect(greeting).toBe("hello ada");
      expect(prefix.startsWith(join(cacheDir, "venvs"))).toBe(true);
      expect(logged(first, "virtualenv built")).toBe(1);

      const again = await runWith(cacheDir, {
        requirements: ["Deerflow_Demo == 1.0.0", "deerflow-demo==1.0.0"],
      });
      expect(again.outcome).toBe("success");
      expect((again.output.result as string[])[1]).toBe(prefix);
      expect(logged(again, "virtualenv reused")).toBe(1);
      expect(logged(again, "virtualenv build started")).toBe(0);

      // A requirements file with the same set shares the virtualenv.
      const file = join(root, "requirements.txt");
      await writeFile(file, "# for the test\nDEERFLOW-DEMO==1.0.0  # pinned\n");
      const fromFile = await runWith(cacheDir, { requirements: file });
      expect(fromFile.outcome).toBe("success");
      expect((fromFile.output.result as string[])[1]).toBe(prefix);
    },
  );

  it(
    "builds one virtualenv for concurrent attempts",
    BUILD_TIMEOUT,
    async () => {
      const cacheDir = await freshCache();
      const runs = await Promise.all(
        [1, 2, 3].map(() =>
          runWith(cacheDir, { requirements: ["deerflow-demo"] }),
        ),
      );
      for (const run of runs) {
        expect(run.outcome, run.error?.message).toBe("success");
      }
      const prefixes = new Set(
        runs.map((r) => (r.output.result as string[])[1]),
      );
      expect(prefixes.size).toBe(1);
      const builds = runs.map((r) => logged(r, "virtualenv build started"));
      expect(builds.reduce((a, b) => a + b, 0)).toBe(1);
      const reused = runs.map((r) => logged(r, "virtualenv reused"));
      expect(reused.reduce((a, b) => a + b, 0)).toBe(2);
      // Only the virtualenv is left: no lock, no half-built directory.
      expect(await readdir(join(cacheDir, "venvs"))).toHaveLength(1);
    },
  );

  it(
    "fails a failed install without retries, with pip's error, leaving nothing",
    BUILD_TIMEOUT,
    async () => {
      const cacheDir = await freshCache();
      const run = await runWith(cacheDir, {
        requirements: ["deerflow-missing==9.9"],
      });
      expect(run.error).toBeInstanceOf(NonRetryableError);
      expect(run.error?.message).toMatch(
        /^installing config\.requirements failed: pip install failed with exit code 1:\n/,
      );
      expect(run.error?.message).toMatch(
        /No matching distribution found for deerflow-missing==9\.9/,
      );
      expect(await readdir(join(cacheDir, "venvs"))).toEqual([]);
    },
  );

  it("refuses a requirement that is a pip option, naming it", async () => {
    const run = await runWith(await freshCache(), {
      requirements: ["deerflow-demo", "--index-url=http://127.0.0.1:1/"],
    });
    expect(run.error).toBeInstanceOf(NonRetryableError);
    expect(run.error?.message).toMatch(
      /^config\.requirements\[1\]: is a pip option/,
    );
  });

  it("names a requirements file that cannot be read", async () => {
    const run = await runWith(await freshCache(), {
      requirements: join(root, "missing.txt"),
    });
    expect(run.error).toBeInstanceOf(NonRetryableError);
    expect(run.error?.message).toMatch(
      /^config\.requirements: cannot read the requirements file .*missing\.txt \(ENOENT\)$/,
    );
  });
});
