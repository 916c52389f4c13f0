/**
 * What N more of something (sessions, runs) keep on the heap: two V8
 * heap snapshots (node --heapsnapshot-signal=SIGUSR2; each is taken
 * after a full collection), the second with N more, compared by kind of
 * node, per one of the N.
 *
 *   npx tsx bench/tools/heap-snapshot-diff.ts BEFORE.heapsnapshot \
 *     AFTER.heapsnapshot N [--top 40]
 */
import { readFile } from "node:fs/promises";

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Count and self size (bytes) by kind: "closure step", "object Promise". */
export type HeapTally = Map<string, { count: number; bytes: number }>;

/**
 * Sums a snapshot's nodes by kind: their type, and the constructor or
 * function name for objects and closures. Strings, numbers and code go
 * by type alone, so that each string is not a kind of its own.
 */
export function tallyHeap(snapshot: HeapSnapshot): HeapTally {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const tally: HeapTally = new Map();
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt] ?? 0] ?? "?";
    const kind = BY_TYPE_ALONE.has(type)
      ? type
      : `${type} ${(strings[nodes[i + nameAt] ?? 0] ?? "").slice(0, 50)}`;
    const entry = tally.get(kind) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += nodes[i + sizeAt] ?? 0;
    tally.set(kind, entry);
  }
  return tally;
}

const BY_TYPE_ALONE = new Set([
  "string",
  "concatenated string",
  "sliced string",
  "number",
  "code",
]);

/** The growth from `before` to `after`, per one of `n`, largest first. */
export function perUnit(
  before: HeapTally,
  after: HeapTally,
  n: number,
): [string, { count: number; bytes: number }][] {
  const rows: [string, { count: number; bytes: number }][] = [];
  for (const [kind, a] of after) {
    const b = before.get(kind) ?? { count: 0, bytes: 0 };
    rows.push([
      kind,
      { count: (a.count - b.count) / n, bytes: (a.bytes - b.bytes) / n },
    ]);
  }
  return rows.sort((x, y) => y[1].bytes - x[1].bytes);
}

async function main(argv: string[]): Promise<void> {
  const [beforeFile, afterFile, nText] = argv;
  const topAt = argv.indexOf("--top");
  const top = topAt >= 0 ? Number(argv[topAt + 1]) : 40;
  const n = Number(nText);
  if (!beforeFile || !afterFile || !(n > 0)) {
    process.stderr.write(
      "usage: heap-snapshot-diff BEFORE.heapsnapshot AFTER.heapsnapshot N [--top 40]\n",
    );
    process.exit(2);
  }
  const load = async (file: string) =>
    tallyHeap(JSON.parse(await readFile(file, "utf8")) as HeapSnapshot);
  const before = await load(beforeFile);
  const after = await load(afterFile);
  const rows = perUnit(before, after, n);
  const total = rows.reduce((sum, [, r]) => sum + r.bytes, 0);
  process.stdout.write(`${Math.round(total)} bytes per unit\n`);
  for (const [kind, r] of rows.slice(0, top)) {
    process.stdout.write(
      `${Math.round(r.bytes).toString().padStart(8)} ${r.count
        .toFixed(2)
        .padStart(8)}  ${kind}\n`,
    );
  }
}

if (process.argv[1]?.endsWith("heap-snapshot-diff.ts")) {
  await main(process.argv.slice(2));
}
