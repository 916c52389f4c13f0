import type {
  AffinityExpression,
  ResourceRequest,
} from "../../workflow/index.js";
import type { AgentStateName } from "../agents/agent-state.js";
import { type AgentRoom, shortfalls } from "../dispatch/agent-resources.js";
import { expressionHolds, labelOf } from "../dispatch/expression-holds.js";
import { heldBackBy, type WaitingShort } from "../dispatch/waiting-request.js";

/** What of a queued task decides which agents it fits. */
export interface FitTask {
  type: string;
  nodeSelector: Readonly<Record<string, string>>;
  affinity: readonly AffinityExpression[] | null;
  /** What it asks for in resources, or null. */
  requests: ResourceRequest | null;
}

/** An agent as explain sees it: its row, and the leases it holds. */
export interface FitAgent {
  name: string;
  /** DISCONNECTED too when its replica is gone without saying so. */
  state: AgentStateName;
  cordoned: boolean;
  labels: Readonly<Record<string, string>>;
  taskTypes: readonly string[];
  slots: number;
  /**
   * Leases the agent holds now (GRANTED or ACTIVE). Slots less these is
   * what the database knows; the dispatcher goes by the agent's own
   * credit, which lives only in its session on one replica. So an agent
   * whose credit is spent on work it has not reported yet can be shown
   * with a free slot. Sharing credit through the agents table would fix it.
   */
  heldLeases: number;
  /** All the agent advertised of its resources. */
  resources: AgentRoom;
  /** What its held allocations leave of them. */
  freeResources: AgentRoom;
  /** A task ahead that it keeps resources for (see waiting-request.ts). */
  waitingAhead?: WaitingAhead | undefined;
}

/** A queued task ahead that an agent keeps what it is short of for. */
export interface WaitingAhead {
  /** "task pair", or "task pair of run <id>" for another run's. */
  task: string;
  short: WaitingShort;
}

/** The task's run, as far as its concurrency limits a claim. */
export interface FitRun {
  concurrency: number | null;
  /** Leases the run's attempts hold now. */
  heldLeases: number;
}

/**
 * One reason an agent cannot take a task. They are found in this order,
 * which is also the order in which they are shown.
 */
export type Lack =
  | { kind: "disconnected" }
  | { kind: "cordoned" }
  | { kind: "draining" }
  | { kind: "type"; type: string }
  | { kind: "label"; key: string; wanted: string; has: string | undefined }
  | {
      kind: "affinity";
      expression: AffinityExpression;
      has: string | undefined;
    }
  /** The agent has not enough of these at all. */
  | { kind: "resources"; short: string[] }
  | { kind: "full"; held: number; slots: number }
  /** The agent has them, but not free now. */
  | { kind: "resources_busy"; short: string[] }
  /** It has them free, but keeps them for a task queued ahead. */
  | { kind: "held_for"; task: string }
  | { kind: "run_concurrency"; held: number; limit: number };

/**
 * Everything that keeps `agent` from taking `task`, in a fixed order:
 * disconnected; cordoned or draining; the task type; each node_selector
 * label; each affinity expression; resources; free slots; free
 * resources, or resources kept for a task ahead; the run's concurrency.
 * Empty when the agent fits and has room. Pure: the caller reads state.
 */
export function agentLacks(
  task: FitTask,
  agent: FitAgent,
  run: FitRun,
): Lack[] {
  const lacks: Lack[] = [];
  if (agent.state === "DISCONNECTED") lacks.push({ kind: "disconnected" });
  else if (agent.state === "DRAINING") lacks.push({ kind: "draining" });
  else if (agent.cordoned || agent.state === "CORDONED") {
    lacks.push({ kind: "cordoned" });
  }
  if (!agent.taskTypes.includes(task.type)) {
    lacks.push({ kind: "type", type: task.type });
  }
  for (const [key, wanted] of Object.entries(task.nodeSelector)) {
    const has = labelOf(agent.labels, key);
    if (has !== wanted) lacks.push({ kind: "label", key, wanted, has });
  }
  for (const expression of task.affinity ?? []) {
    if (!expressionHolds(expression, agent.labels)) {
      const has = labelOf(agent.labels, expression.key);
      lacks.push({ kind: "affinity", expression, has });
    }
  }
  const never = task.requests
    ? shortfalls(task.requests, agent.resources, "in all")
    : [];
  if (never.length > 0) lacks.push({ kind: "resources", short: never });
  // A disconnected agent has no slots to speak of, free or full.
  if (agent.state !== "DISCONNECTED") {
    if (agent.heldLeases >= agent.slots) {
      lacks.push({ kind: "full", held: agent.heldLeases, slots: agent.slots });
    }
    const busy =
      task.requests && never.length === 0
        ? shortfalls(task.requests, agent.freeResources)
        : [];
    if (busy.length > 0) lacks.push({ kind: "resources_busy", short: busy });
    const ahead = agent.waitingAhead;
    if (
      task.requests &&
      never.length === 0 &&
      busy.length === 0 &&
      ahead !== undefined &&
      heldBackBy(ahead.short, task.requests)
    ) {
      lacks.push({ kind: "held_for", task: ahead.task });
    }
  }
  if (run.concurrency !== null && run.heldLeases >= run.concurrency) {
    lacks.push({
      kind: "run_concurrency",
      held: run.heldLeases,
      limit: run.concurrency,
    });
  }
  return lacks;
}

/** Whether a lack is about the agent's state rather than its fit. */
export function isStateLack(lack: Lack): boolean {
  return (
    lack.kind === "disconnected" ||
    lack.kind === "cordoned" ||
    lack.kind === "draining"
  );
}

/** A lack as one phrase: "node_selector gpu=true: agent has gpu=false". */
export function describeLack(lack: Lack): string {
  switch (lack.kind) {
    case "disconnected":
      return "disconnected";
    case "cordoned":
      return "cordoned";
    case "draining":
      return "draining";
    case "type":
      return `does not provide type "${lack.type}"`;
    case "label":
      return `node_selector ${lack.key}=${lack.wanted}: ${hasLabel(lack.key, lack.has)}`;
    case "affinity":
      return `affinity ${describeExpression(lack.expression)}: ${hasLabel(lack.expression.key, lack.has)}`;
    case "resources":
      return `too small: asks ${lack.short.join(", ")}`;
    case "full":
      return `full (${lack.held} of ${lack.slots} slots taken)`;
    case "resources_busy":
      return `resources in use: asks ${lack.short.join(", ")}`;
    case "held_for":
      return `resources kept for ${lack.task}, queued ahead of it`;
    case "run_concurrency":
      return `run concurrency limit reached (${lack.held} of ${lack.limit})`;
  }
}

/** "gpu_type In (a100, h100)", "spot Exists". */
export function describeExpression(expression: AffinityExpression): string {
  const values = expression.values ?? [];
  const { key, operator } = expression;
  if (values.length === 0) return `${key} ${operator}`;
  if (operator === "In" || operator === "NotIn") {
    return `${key} ${operator} (${values.join(", ")})`;
  }
  return `${key} ${operator} ${values.join(", ")}`;
}

function hasLabel(key: string, has: string | undefined): string {
  return has === undefined ? `label ${key} not set` : `agent has ${key}=${has}`;
}
