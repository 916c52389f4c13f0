import { RunView } from "../../gen/deerflow/v1/run_pb.js";
import { definitionOf } from "../../sdk/definition-of.js";
import { startDeerFlow, startRun } from "../harness/deer-flow-system.js";
import { wideDag } from "../harness/definitions.js";
import { metric } from "../harness/metric.js";
import { round } from "../harness/round.js";
import type { Scenario, ScenarioContext } from "../scenario.js";

/** Issue 6, scenario 4. */
export const wideDagScenario: Scenario = {
  name: "wide-dag",
  title: "Wide DAG: validating and storing a large definition",
  description:
    "A definition of 10,000 no-op tasks by default: one root, the rest " +
    "in parallel after it (each with a template reading the root's " +
    "output), and one join after all of them, sent as JSON text as the " +
    "SDK and the CLI send it. Times, as a client sees them, " +
    "ValidateWorkflow (parse and validate only) and StartRun (validate, " +
    "then store the run, its tasks and their first events), answering " +
    "with the run alone (RUN_VIEW_BASIC, as the CLI asks) and, for " +
    "comparison, with all its tasks (RUN_VIEW_FULL). No agent is " +
    "connected, so nothing is dispatched while it is timed.",
  pglite: true,
  run: runWideDag,
};

async function runWideDag(ctx: ScenarioContext) {
  const { options, progress } = ctx;
  const size = options.wideTasks ?? (options.quick ? 500 : 10_000);
  const system = await startDeerFlow(ctx, { agents: 0 });
  const definition = wideDag(`wide-${size}`, size);
  const validate = async () => {
    const started = performance.now();
    const answer = await system.clients.workflows.validateWorkflow({
      definition: definitionOf(JSON.stringify(definition)),
    });
    if (!answer.valid) {
      const first = answer.problems[0];
      throw new Error(
        `the wide definition is invalid: ${first?.field ?? ""} ${first?.message ?? ""}`,
      );
    }
    return performance.now() - started;
  };
  const store = async (view: RunView) => {
    const started = performance.now();
    await startRun(system.clients, definition, undefined, view);
    return performance.now() - started;
  };
  for (let i = 0; i < options.warmup; i += 1) {
    await validate();
    await store(RunView.BASIC);
    await store(RunView.FULL);
  }
  const validations: number[] = [];
  const stores: number[] = [];
  const fullStores: number[] = [];
  for (let r = 0; r < options.repeat; r += 1) {
    validations.push(await validate());
    stores.push(await store(RunView.BASIC));
    fullStores.push(await store(RunView.FULL));
    progress.info("sample", {
      tasks: size,
      repetition: r + 1,
      validate_ms: round(validations.at(-1) ?? 0),
      start_run_ms: round(stores.at(-1) ?? 0),
      start_run_full_ms: round(fullStores.at(-1) ?? 0),
    });
  }
  return {
    parameters: {
      tasks: size,
      shape: "root → parallel → join",
      sent_as: "JSON text",
      database: system.database.kind,
      repeat: options.repeat,
    },
    metrics: [
      metric({
        name: `StartRun (validate + store), ${size} tasks`,
        unit: "ms",
        better: "lower",
        samples: stores,
        target: { op: "<=", value: 1000, text: "under 1 s" },
      }),
      metric({
        name: `StartRun answering with all ${size} tasks`,
        unit: "ms",
        better: "lower",
        samples: fullStores,
      }),
      metric({
        name: `ValidateWorkflow, ${size} tasks`,
        unit: "ms",
        better: "lower",
        samples: validations,
      }),
    ],
    raw: {
      validateMs: validations,
      startRunMs: stores,
      startRunFullMs: fullStores,
    },
    notes: [],
  };
}
