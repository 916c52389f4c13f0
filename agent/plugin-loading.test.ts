import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DuplicateTaskTypeError,
  importPluginModules,
  loadPlugins,
} from "./plugin-registry.js";
import {
  type PluginSource,
  PluginSourceError,
  pluginsInDirectory,
  resolvePluginSpecifier,
} from "./plugin-sources.js";

/** A plugin module's source: a factory that defines one task type. */
function pluginSource(type: string, extra = ""): string {
  return `${extra}
export default (sdk) =>
  sdk.definePlugin({
    type: ${JSON.stringify(type)},
    version: "1.0.0",
    configSchema: { type: "object", properties: {} },
    async execute(ctx) { ctx.output({ type: ${JSON.stringify(type)} }); },
  });
`;
}

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "deerflow-plugins-"));
  const dir = join(root, "plugins");
  await mkdir(dir);
  await writeFile(join(dir, "alpha.mjs"), pluginSource("alpha"));
  await writeFile(join(dir, "README.md"), "not a plugin");
  await writeFile(join(dir, "alpha.test.mjs"), "throw new Error('never');");
  // A package folder with its own node_modules: the dependency resolves
  // from the plugin's folder, not the agent's.
  const pkg = join(dir, "beta-plugin");
  await mkdir(join(pkg, "node_modules", "beta-dep"), { recursive: true });
  await writeFile(
    join(pkg, "package.json"),
    JSON.stringify({
      name: "beta-plugin",
      type: "module",
      exports: { ".": { import: "./main.js" } },
    }),
  );
  await writeFile(
    join(pkg, "main.js"),
    pluginSource("beta", 'import { suffix } from "beta-dep";\nvoid suffix;'),
  );
  await writeFile(
    join(pkg, "node_modules", "beta-dep", "package.json"),
    JSON.stringify({ name: "beta-dep", type: "module", main: "index.js" }),
  );
  await writeFile(
    join(pkg, "node_modules", "beta-dep", "index.js"),
    'export const suffix = "-dep";',
  );
  // Broken ones.
  await writeFile(join(dir, "broken.mjs"), "export default (sdk => ;");
  await writeFile(join(dir, "not-a-factory.mjs"), "export default 42;");
  await writeFile(
    join(dir, "bad-schema.mjs"),
    `export default (sdk) => sdk.definePlugin({ type: "bad", version: "1.0.0",
       configSchema: { type: "object", properties: { x: { type: "nope" } } },
       async execute() {} });`,
  );
  await writeFile(
    join(dir, "throws.mjs"),
    'export default () => { throw new Error("no licence"); };',
  );
  // An installed package, found from a working directory.
  const installed = join(
    root,
    "app",
    "node_modules",
    "@acme",
    "deerflow-gamma",
  );
  await mkdir(installed, { recursive: true });
  await writeFile(
    join(installed, "package.json"),
    JSON.stringify({
      name: "@acme/deerflow-gamma",
      type: "module",
      main: "gamma.js",
    }),
  );
  await writeFile(join(installed, "gamma.js"), pluginSource("gamma"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("loading plugins from disk", () => {
  it("loads every module and package of a folder and reports each broken one with its path and reason", async () => {
    const found = await pluginsInDirectory(join(root, "plugins"));
    const sources = found.filter(
      (f): f is PluginSource => !(f instanceof PluginSourceError),
    );
    expect(sources.map((s) => s.origin.split("/").pop())).toEqual([
      "alpha.mjs",
      "bad-schema.mjs",
      "beta-plugin",
      "broken.mjs",
      "not-a-factory.mjs",
      "throws.mjs",
    ]);
    const imported = await importPluginModules(sources);
    const loaded = loadPlugins(imported.entries);
    expect([...loaded.plugins.keys()].sort()).toEqual(["alpha", "beta"]);
    const problems = [...imported.problems, ...loaded.problems].map(
      (p) => `${p.origin.split("/").pop()}: ${p.reason}`,
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^broken\.mjs: import failed: /),
        expect.stringMatching(
          /^not-a-factory\.mjs: the default export must be a function/,
        ),
        expect.stringMatching(
          /^bad-schema\.mjs: plugin "bad": configSchema is not a valid JSON Schema/,
        ),
        "throws.mjs: no licence",
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it("resolves --plugin as a file, a folder or an installed package", async () => {
    const file = await resolvePluginSpecifier("./plugins/alpha.mjs", root);
    const folder = await resolvePluginSpecifier("plugins/beta-plugin", root);
    const pkg = await resolvePluginSpecifier(
      "@acme/deerflow-gamma",
      join(root, "app", "src"),
    );
    expect(file.url).toMatch(/alpha\.mjs$/);
    expect(folder.url).toMatch(/beta-plugin\/main\.js$/);
    expect(pkg.url).toMatch(/deerflow-gamma\/gamma\.js$/);
    const { entries } = await importPluginModules([pkg]);
    expect([...loadPlugins(entries).plugins.keys()]).toEqual(["gamma"]);
  });

  it("names a --plugin that cannot be found", async () => {
    await expect(resolvePluginSpecifier("./nowhere.js", root)).rejects.toThrow(
      "./nowhere.js: no such file or directory",
    );
    await expect(
      resolvePluginSpecifier("deerflow-not-installed", root),
    ).rejects.toThrow(/deerflow-not-installed: package not found/);
    await expect(pluginsInDirectory(join(root, "missing"))).rejects.toThrow(
      /cannot read the directory/,
    );
  });

  it("refuses two plugins that claim one task type, naming both", async () => {
    const a = await resolvePluginSpecifier("./plugins/alpha.mjs", root);
    const { entries } = await importPluginModules([a]);
    const [alpha] = entries;
    if (alpha === undefined) throw new Error("alpha did not load");
    const twice = [{ origin: "built-in", factory: alpha.factory }, alpha];
    expect(() => loadPlugins(twice)).toThrow(DuplicateTaskTypeError);
    expect(() => loadPlugins(twice)).toThrow(
      /task type "alpha" is provided by both built-in and .*alpha\.mjs/,
    );
  });
});
