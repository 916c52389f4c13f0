/**
 * Sums up a V8 CPU profile (node --cpu-prof; the bench writes them with
 * --cpu-prof-dir): where the time went by package or source folder, and
 * the functions with the most self and inclusive time.
 *
 *   npx tsx bench/tools/cpu-profile-summary.ts FILE.cpuprofile [--top N]
 */
import { readFile } from "node:fs/promises";

interface ProfileNode {
  id: number;
  callFrame: {
    functionName: string;
    url: string;
    lineNumber: number;
  };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Time per key, in milliseconds, largest first. */
export type Tally = [string, number][];

/** What a profile's time was spent on. */
export interface ProfileSummary {
  totalMs: number;
  /** Self time by package (node_modules/X), source folder, or V8 bucket. */
  byArea: Tally;
  /** Self time by function. */
  selfByFunction: Tally;
  /** Time with the function anywhere on the stack. */
  inclusiveByFunction: Tally;
}

/** "pg-boss", "control-plane/leases", "node:internal", "(garbage collector)". */
export function areaOf(url: string, functionName: string): string {
  if (url === "")
    return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return "node internals";
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1]) return modules[1];
  const ours =
    /\/(agent|bench|cli|control-plane|core|gen|plugin-sdk|plugins|workflow)\/([^/]+\/)?/.exec(
      url,
    );
  if (ours) return `${ours[1]}${ours[2] ? `/${ours[2].slice(0, -1)}` : ""}`;
  return url;
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(node_modules\/)?/, "");
  return `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
}

function sorted(map: Map<string, number>): Tally {
  return [...map.entries()].sort((a, b) => b[1] - a[1]);
}

/** Tallies a parsed profile. */
export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const area = new Map<string, number>();
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    totalUs += us;
    const node = byId.get(id);
    if (!node) return;
    const a = areaOf(node.callFrame.url, node.callFrame.functionName);
    area.set(a, (area.get(a) ?? 0) + us);
    const name = frameName(node);
    self.set(name, (self.get(name) ?? 0) + us);
    const seen = new Set<string>();
    for (
      let at: number | undefined = id;
      at !== undefined;
      at = parent.get(at)
    ) {
      const frame = byId.get(at);
      if (!frame) break;
      const f = frameName(frame);
      if (seen.has(f)) continue;
      seen.add(f);
      inclusive.set(f, (inclusive.get(f) ?? 0) + us);
    }
  });
  const ms = (m: Map<string, number>) =>
    new Map([...m].map(([k, v]) => [k, v / 1000] as [string, number]));
  return {
    totalMs: totalUs / 1000,
    byArea: sorted(ms(area)),
    selfByFunction: sorted(ms(self)),
    inclusiveByFunction: sorted(ms(inclusive)),
  };
}

function print(title: string, tally: Tally, total: number, top: number) {
  process.stdout.write(`\n${title}\n`);
  for (const [key, ms] of tally.slice(0, top)) {
    const pct = ((ms / total) * 100).toFixed(1).padStart(5);
    process.stdout.write(`${pct}%  ${ms.toFixed(0).padStart(7)} ms  ${key}\n`);
  }
}

async function main(argv: string[]): Promise<number> {
  const file = argv.find((a) => !a.startsWith("--"));
  const topAt = argv.indexOf("--top");
  const top = topAt >= 0 ? Number(argv[topAt + 1]) : 25;
  if (!file || !Number.isInteger(top) || top < 1) {
    process.stderr.write(
      "usage: cpu-profile-summary FILE.cpuprofile [--top N]\n",
    );
    return 2;
  }
  const summary = summarizeProfile(
    JSON.parse(await readFile(file, "utf8")) as CpuProfile,
  );
  process.stdout.write(`profile ${file}: ${summary.totalMs.toFixed(0)} ms\n`);
  print("self time by area", summary.byArea, summary.totalMs, top);
  print("self time by function", summary.selfByFunction, summary.totalMs, top);
  print(
    "inclusive time by function",
    summary.inclusiveByFunction,
    summary.totalMs,
    top,
  );
  return 0;
}

if (process.argv[1]?.endsWith("cpu-profile-summary.ts")) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
