/**
 * examples/builder-equivalent.yaml written with the TypeScript builder.
 * Print its definition: `npx tsx examples/sdk/nightly-report.ts`; run it
 * against a server: `npx tsx examples/sdk/nightly-report.ts --run URL`.
 */
import { pathToFileURL } from "node:url";
import {
  condition,
  createClient,
  PythonTask,
  params,
  RunState,
  ref,
  ShellTask,
  Workflow,
} from "deerflow/sdk";

export const nightlyReport = new Workflow({
  name: "nightly-report",
  description:
    "Counts rows, summarizes them when there are enough, and reports.",
  params: { date: "2026-12-01", min_rows: 10 },
  defaults: {
    timeout: 300,
    retry: { max_attempts: 2, initial_delay: 1, backoff: "exponential" },
  },
  concurrency: 4,
  timeout: 3600,
});

// `${params.date}` inside a JavaScript template literal writes the Deer
// Flow template `${params.date}`; the value is shell-quoted at run time.
const extract = nightlyReport.task(
  new ShellTask(
    "extract",
    `echo "extracting for" ${params.date}\n` +
      `echo "rows=120" >> "$DEERFLOW_OUTPUT"\n`,
    { labels: { stage: "extract" }, env: { LC_ALL: "C" }, priority: 10 },
  ),
);

const summarize = nightlyReport.task(
  new PythonTask(
    "summarize",
    {
      code: 'def summarize(rows):\n    return {"kept": rows // 2}\n',
      function: "summarize",
      // A value that is exactly one template keeps its type (a number).
      args: [ref(extract).output("rows")],
    },
    {
      depends_on: [extract],
      condition: condition`${ref(extract).output.rows} >= ${params.min_rows}`,
      retries: 1,
      resources: { cpu: "500m", memory: "256Mi" },
    },
  ),
);

nightlyReport.add(
  new ShellTask(
    "report",
    `echo "report for" ${params.date} ${ref(summarize).status}`,
    { depends_on: [summarize], trigger_rule: "all_done", timeout: 60 },
  ),
);

/** Prints the definition, or runs it with `--run URL` and waits. */
async function main(argv: string[]): Promise<void> {
  const at = argv.indexOf("--run");
  if (at === -1) {
    process.stdout.write(nightlyReport.toYAML());
    return;
  }
  const client = createClient({ baseUrl: argv[at + 1] ?? "" });
  const started = await client.startRun({ definition: nightlyReport });
  const run = await client.waitForRun(started.id);
  for (const task of run.tasks) {
    process.stdout.write(`${task.id}\t${JSON.stringify(task.output)}\n`);
  }
  process.exitCode = run.state === RunState.SUCCESS ? 0 : 1;
}

if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href
) {
  await main(process.argv.slice(2));
}
