import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { type Plugin, pluginSdk } from "../plugin-sdk/index.js";
import { builtinPluginFactories } from "./index.js";

const plugins = builtinPluginFactories.flatMap(
  (factory) => factory(pluginSdk) as Plugin | Plugin[],
);

/**
 * Ajv (JSON Schema 2020-12, the dialect the control plane checks configs
 * with) in strict mode, knowing the template-encoding keyword. Only
 * strictRequired is off: `oneOf: [{ required: ["script"] }, ...]` names
 * properties defined one level up, which that check cannot see.
 */
function compile(schema: object) {
  const ajv = new Ajv2020({
    strict: true,
    strictRequired: false,
    allErrors: true,
  });
  ajv.addKeyword({
    keyword: "x-encoding",
    schemaType: "string",
    metaSchema: { enum: ["shell", "url", "bind"] },
  });
  return ajv.compile(schema);
}

function byType(type: string): Plugin {
  const plugin = plugins.find((p) => p.type === type);
  if (!plugin) throw new Error(`no built-in ${type}`);
  return plugin;
}

describe("built-in plugins", () => {
  it("are shell, http, python, noop, sql, docker, kubernetes and spark", () => {
    expect(plugins.map((p) => p.type)).toEqual([
      "shell",
      "http",
      "python",
      "noop",
      "sql",
      "docker",
      "kubernetes",
      "spark",
    ]);
  });

  it("have schemas that compile strictly and describe every property", () => {
    for (const plugin of plugins) {
      compile(plugin.configSchema);
      const schema = plugin.configSchema as {
        additionalProperties: boolean;
        properties: Record<string, { description?: string }>;
      };
      expect(schema.additionalProperties).toBe(false);
      for (const [name, property] of Object.entries(schema.properties)) {
        expect(property.description, `${plugin.type}.${name}`).toBeTruthy();
      }
    }
  });

  it("mark templated strings with their encoding", () => {
    const shell = byType("shell").configSchema as {
      properties: { command: Record<string, unknown> };
    };
    expect(shell.properties.command["x-encoding"]).toBe("shell");
    const http = byType("http").configSchema as {
      properties: { url: Record<string, unknown> };
    };
    expect(http.properties.url["x-encoding"]).toBe("url");
  });

  it("accept good configs and reject bad ones", () => {
    const cases: [string, object, boolean][] = [
      ["shell", { command: "echo hi", env: { A: "1" } }, true],
      ["shell", { command: "echo", extra: 1 }, false],
      ["shell", { env: {} }, false],
      ["http", { url: "https://example.test/x", method: "POST" }, true],
      ["http", { url: "ftp://x" }, false],
      ["http", { url: "http://x", expected_status: [200, 99] }, false],
      ["python", { script: "a.py", function: "f", args: [1] }, true],
      ["python", { code: "result = 1", python_version: "3.12" }, true],
      ["python", { script: "a.py", code: "x" }, false],
      ["python", { code: "x", args: [1] }, false],
      ["python", { code: "x", python: "py", python_version: "3.11" }, false],
      ["python", { code: "x", python_version: "3" }, false],
    ];
    for (const [type, config, valid] of cases) {
      const validate = compile(byType(type).configSchema);
      expect(validate(config), `${type} ${JSON.stringify(config)}`).toBe(valid);
    }
  });
});
