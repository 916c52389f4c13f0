import type { Command } from "commander";
import {
  importPluginModules,
  loadPlugins,
} from "../../agent/plugin-registry.js";
import { resolvePluginSpecifier } from "../../agent/plugin-sources.js";
import {
  type ConformanceSource,
  runConformance,
} from "../../plugin-sdk/conformance.js";
import { ExitCode, reportError } from "../cli-output.js";
import { positiveInteger, UsageError } from "../key-value.js";

/**
 * `deerflow plugin test PATH`: loads a plugin as an agent would and runs
 * the shared conformance suite on the cases its module exports as
 * `conformance`. Exit 0 when every check passes, 1 when one fails, 2 when
 * the plugin cannot be loaded.
 */
export function registerPluginCommand(program: Command): void {
  const plugin = program
    .command("plugin")
    .description("tools for plugin authors");
  plugin
    .command("test")
    .description(
      "run the conformance suite on a plugin (exit 1 if a check fails)",
    )
    .argument("<path-or-package>", "a plugin file, folder or installed package")
    .option(
      "--timeout-ms <ms>",
      "the timeout the long-running case is given",
      positiveInteger("--timeout-ms"),
      1_000,
    )
    .action(async (specifier: string, opts) => {
      try {
        process.exitCode = await testPlugin(specifier, opts.timeoutMs);
      } catch (error) {
        process.exitCode = reportError(error);
      }
    });
}

async function testPlugin(
  specifier: string,
  timeoutMs: number,
): Promise<number> {
  const source = await resolvePluginSpecifier(specifier);
  const imported = await importPluginModules([source]);
  const loaded = loadPlugins(imported.entries);
  const problem = [...imported.problems, ...loaded.problems][0];
  if (problem !== undefined) {
    throw new Error(`${problem.origin}: ${problem.reason}`);
  }
  const module = (await import(source.url)) as { conformance?: unknown };
  const cases = module.conformance;
  if (
    cases === undefined ||
    (typeof cases !== "object" && typeof cases !== "function")
  ) {
    throw new UsageError(
      `${specifier}: the module exports no \`conformance\` cases; export ` +
        "`conformance` (the cases, or a function returning { cases, dispose }) " +
        "as examples/plugins/port-sensor does",
    );
  }
  let failed = 0;
  for (const { plugin } of loaded.plugins.values()) {
    process.stdout.write(`${plugin.type} ${plugin.version} (${specifier})\n`);
    const results = await runConformance(plugin, cases as ConformanceSource, {
      timeoutMs,
      onResult: (result) => {
        const mark = result.passed ? "ok  " : "FAIL";
        const why = result.reason === undefined ? "" : `: ${result.reason}`;
        process.stdout.write(`  ${mark} ${result.name}${why}\n`);
      },
    });
    failed += results.filter((r) => !r.passed).length;
  }
  process.stdout.write(
    failed === 0 ? "all checks passed\n" : `${failed} check(s) failed\n`,
  );
  return failed === 0 ? ExitCode.ok : ExitCode.failed;
}
