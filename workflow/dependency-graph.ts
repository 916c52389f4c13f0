import type { WorkflowDefinition } from "./workflow-definition.js";

/** The part of a task the dependency graph needs. */
export interface GraphNode {
  id: string;
  depends_on: readonly string[];
}

/** Task ids the task depends on transitively (its upstream). */
export function upstreamOf(
  def: Pick<WorkflowDefinition, "tasks">,
  taskId: string,
): Set<string> {
  return upstreamIn(def.tasks, taskId);
}

/** {@link upstreamOf} over any list of nodes; unknown ids are ignored. */
export function upstreamIn(
  nodes: readonly GraphNode[],
  taskId: string,
): Set<string> {
  return upstreamFrom(indexNodes(nodes), taskId);
}

/**
 * Whether one task is upstream of another, for many questions about one
 * graph: the graph is indexed once, and a task's upstream is walked only
 * when first asked about (most tasks' templates read no other task, and a
 * 10,000-task chain's upstream sets together hold 50 million ids).
 */
export function upstreamQuestions(
  nodes: readonly GraphNode[],
): (taskId: string) => { has(id: string): boolean } {
  const byId = indexNodes(nodes);
  const walked = new Map<string, Set<string>>();
  return (taskId) => ({
    has(id) {
      let upstream = walked.get(taskId);
      if (upstream === undefined) {
        upstream = upstreamFrom(byId, taskId);
        walked.set(taskId, upstream);
      }
      return upstream.has(id);
    },
  });
}

function upstreamFrom(
  byId: ReadonlyMap<string, GraphNode>,
  taskId: string,
): Set<string> {
  const upstream = new Set<string>();
  const pending = [...(byId.get(taskId)?.depends_on ?? [])];
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    if (upstream.has(id) || !byId.has(id)) continue;
    upstream.add(id);
    pending.push(...(byId.get(id)?.depends_on ?? []));
  }
  return upstream;
}

/**
 * Finds dependency cycles. Each cycle is listed once, in run order
 * (upstream first) and starting at its earliest task in definition order,
 * closed by repeating that task: `["a", "b", "a"]` means b depends on a
 * and a on b. Dependencies on unknown ids are ignored.
 */
export function findCycles(nodes: readonly GraphNode[]): string[][] {
  const byId = indexNodes(nodes);
  const order = new Map(nodes.map((node, i) => [node.id, i] as const));
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles = new Map<string, string[]>();

  // Iterative depth-first search, so a long chain of tasks cannot
  // exhaust the call stack.
  for (const root of nodes) {
    if (state.get(root.id) !== undefined) continue;
    const frames = [{ id: root.id, next: 0 }];
    state.set(root.id, "open");
    stack.push(root.id);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as { id: string; next: number };
      const deps = byId.get(frame.id)?.depends_on ?? [];
      const dep = deps[frame.next];
      frame.next += 1;
      if (dep === undefined) {
        frames.pop();
        stack.pop();
        state.set(frame.id, "done");
      } else if (byId.has(dep) && state.get(dep) === "open") {
        const cycle = canonical(stack.slice(stack.indexOf(dep)), order);
        cycles.set(cycle.join("\0"), cycle);
      } else if (byId.has(dep) && state.get(dep) === undefined) {
        state.set(dep, "open");
        stack.push(dep);
        frames.push({ id: dep, next: 0 });
      }
    }
  }
  return [...cycles.values()];
}

/**
 * Turns a stack slice (each task depends on the next, the last on the
 * first) into run order starting at its earliest task, closed.
 */
function canonical(
  dependsChain: string[],
  order: ReadonlyMap<string, number>,
): string[] {
  const runOrder = [...dependsChain].reverse();
  let start = 0;
  runOrder.forEach((id, i) => {
    const current = runOrder[start] ?? id;
    if ((order.get(id) ?? 0) < (order.get(current) ?? 0)) start = i;
  });
  const rotated = [...runOrder.slice(start), ...runOrder.slice(0, start)];
  const first = rotated[0];
  return first === undefined ? rotated : [...rotated, first];
}

function indexNodes(nodes: readonly GraphNode[]): Map<string, GraphNode> {
  const byId = new Map<string, GraphNode>();
  for (const node of nodes) if (!byId.has(node.id)) byId.set(node.id, node);
  return byId;
}
