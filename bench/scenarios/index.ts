import type { Scenario } from "../scenario.js";
import { chainScenario } from "./chain.js";
import { failureScenario } from "./failure.js";
import { fleetScenario } from "./fleet.js";
import { latencyScenario } from "./latency.js";
import { peersScenario } from "./peers.js";
import { throughputScenario } from "./throughput.js";
import { wideDagScenario } from "./wide-dag.js";

/** Every scenario, in the order `npm run bench` runs them. */
export const scenarios: readonly Scenario[] = [
  throughputScenario,
  latencyScenario,
  chainScenario,
  wideDagScenario,
  fleetScenario,
  failureScenario,
  peersScenario,
];
