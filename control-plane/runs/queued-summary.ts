import {
  describeExpression,
  type FitRun,
  type FitTask,
  isStateLack,
  type Lack,
} from "./agent-lacks.js";

/** One known agent and what it lacks for the task. */
export interface AgentVerdict {
  name: string;
  lacks: readonly Lack[];
}

/**
 * The one sentence that says why a queued task waits, picked from the
 * verdicts: first what no agent could ever run (type, node_selector,
 * affinity, fixed until an agent or the task changes), then the state of
 * the agents that would fit (connected, cordoned, draining), then the
 * run's concurrency, then what those agents have free (slots,
 * resources, resources kept for others). Pure, like agentLacks.
 */
export function queuedSummary(
  task: FitTask,
  verdicts: readonly AgentVerdict[],
  run: FitRun,
): string {
  const known = count(verdicts.length, "agent");
  if (verdicts.length === 0) {
    return "no agent is known: start one with `deerflow agent`";
  }
  const typed = without(verdicts, "type");
  if (typed.length === 0) {
    return `no agent provides type "${task.type}" (${known} known)`;
  }
  const selected = without(typed, "label");
  if (selected.length === 0) {
    const selector = Object.entries(task.nodeSelector)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ");
    return without(verdicts, "label").length === 0
      ? `node_selector ${selector} matches no agent (${known} known)`
      : `node_selector ${selector} matches no agent that provides type ` +
          `"${task.type}" (${known} known)`;
  }
  const fitting = without(selected, "affinity");
  if (fitting.length === 0) {
    const failed = new Set(
      selected.flatMap((v) =>
        v.lacks.flatMap((l) =>
          l.kind === "affinity" ? [describeExpression(l.expression)] : [],
        ),
      ),
    );
    const rule = `affinity ${[...failed].join("; ")}`;
    return without(verdicts, "affinity").length === 0
      ? `${rule} matches no agent (${known} known)`
      : `${rule} matches none of the ${count(selected.length, "agent")} ` +
          "that otherwise fit";
  }
  const capable = without(fitting, "resources");
  if (capable.length === 0) {
    const among =
      fitting.length === 1
        ? "the one agent that otherwise fits"
        : `the ${fitting.length} agents that otherwise fit`;
    return (
      `no agent has the resources the task asks for among ${among} ` +
      `(${shortList(fitting, "resources")})`
    );
  }
  return stateSummary(capable, verdicts, run);
}

/** Agents whose name says the most shown in a sentence; then "and N more". */
const NAMED_IN_SUMMARY = 3;

/** "a: cpu 3 (2 in all); b: ...; and 5 more", of a lack's shortfalls. */
function shortList(
  verdicts: readonly AgentVerdict[],
  kind: "resources" | "resources_busy",
): string {
  return namedList(verdicts, (v) => shortOf(v, kind));
}

/** "a: what say(a) says; b: ...; and 5 more". */
function namedList(
  verdicts: readonly AgentVerdict[],
  say: (verdict: AgentVerdict) => string,
): string {
  const named = verdicts
    .slice(0, NAMED_IN_SUMMARY)
    .map((v) => `${v.name}: ${say(v)}`);
  const more = verdicts.length - named.length;
  return [...named, ...(more > 0 ? [`and ${more} more`] : [])].join("; ");
}

/** The task an agent keeps resources for, as its held_for lack names it. */
function keptFor(verdict: AgentVerdict): string {
  const lack = verdict.lacks.find((l) => l.kind === "held_for");
  return lack?.kind === "held_for" ? lack.task : "";
}

/** What an agent's lack of `kind` (resources) says it is short of. */
function shortOf(verdict: AgentVerdict, kind: "resources" | "resources_busy") {
  const lack = verdict.lacks.find((l) => l.kind === kind);
  return lack?.kind === kind ? lack.short.join(", ") : "";
}

/** Why agents that fit the task do not take it. */
function stateSummary(
  fitting: readonly AgentVerdict[],
  verdicts: readonly AgentVerdict[],
  run: FitRun,
): string {
  const names = (list: readonly AgentVerdict[]) =>
    list.map((v) => v.name).join(", ");
  const fit = fits(fitting);
  const connected = without(fitting, "disconnected");
  if (connected.length === 0) {
    return without(verdicts, "disconnected").length === 0
      ? `no agent is connected; ${fit} when it is: ${names(fitting)}`
      : `${fit}, but none is connected: ${names(fitting)}`;
  }
  const taking = connected.filter((v) => !v.lacks.some(isStateLack));
  if (taking.length === 0) {
    // Every agent that fits, disconnected ones too, with its reason.
    const why = fitting.map(
      (v) => `${v.name} (${v.lacks.find(isStateLack)?.kind ?? "?"})`,
    );
    return `${fit}; none takes new work: ${why.join(", ")}`;
  }
  // Before what the agents have free: a claim passes over a task of a
  // run at its concurrency whatever they have (assignable-now.ts).
  if (run.concurrency !== null && run.heldLeases >= run.concurrency) {
    return (
      `the run's concurrency limit is reached (${run.heldLeases} of ` +
      `${run.concurrency} attempts hold leases)`
    );
  }
  const free = without(taking, "full");
  if (free.length === 0) {
    let held = 0;
    let slots = 0;
    for (const v of taking) {
      const full = v.lacks.find((l) => l.kind === "full");
      if (full?.kind === "full") {
        held += full.held;
        slots += full.slots;
      }
    }
    const all = taking.length === 1 ? "it is busy" : "all are busy";
    return `${fits(taking)}; ${all} (${held} of ${slots} slots)`;
  }
  const roomy = without(free, "resources_busy");
  if (roomy.length === 0) {
    const all = free.length === 1 ? "its" : "their";
    return (
      `${fits(free)}; ${all} resources are in use by other attempts ` +
      `(${shortList(free, "resources_busy")})`
    );
  }
  const unheld = without(roomy, "held_for");
  if (unheld.length === 0) {
    return (
      `${fits(roomy)}; what it asks for is kept for tasks queued ahead ` +
      `that wait for more (${namedList(roomy, keptFor)})`
    );
  }
  return (
    `${fits(unheld)} with free slots (${names(unheld)}); it is taken when one of ` +
    "them next asks for work, after higher-priority and older tasks"
  );
}

function without(
  verdicts: readonly AgentVerdict[],
  kind: Lack["kind"],
): AgentVerdict[] {
  return verdicts.filter((v) => !v.lacks.some((l) => l.kind === kind));
}

/** "1 agent fits", "2 agents fit". */
function fits(list: readonly AgentVerdict[]): string {
  return `${count(list.length, "agent")} ${list.length === 1 ? "fits" : "fit"}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
