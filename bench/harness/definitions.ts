import type { JsonObject } from "../../plugin-sdk/index.js";

/** A definition of `count` independent no-op tasks. */
export function independentNoops(name: string, count: number): JsonObject {
  return {
    name,
    tasks: Array.from({ length: count }, (_, i) => ({
      id: `t${i}`,
      type: "noop",
    })),
  };
}

/** A sequential DAG: each of `count` no-op tasks depends on the one before. */
export function chainOfNoops(name: string, count: number): JsonObject {
  return {
    name,
    tasks: Array.from({ length: count }, (_, i) => ({
      id: `t${i}`,
      type: "noop",
      ...(i > 0 ? { depends_on: [`t${i - 1}`] } : {}),
    })),
  };
}

/**
 * A fan-out and fan-in of `count` tasks in all: one root, `count - 2`
 * parallel tasks that depend on it, and one join that depends on them.
 * Every task carries a templated config, so validation has templates to
 * check (each middle task reads the root's output).
 */
export function wideDag(name: string, count: number): JsonObject {
  const middle = Math.max(0, count - 2);
  const ids = Array.from({ length: middle }, (_, i) => `m${i}`);
  const tasks: JsonObject[] = [
    { id: "root", type: "noop", output: { shards: middle } },
    ...ids.map((id, i) => ({
      id,
      type: "noop",
      depends_on: ["root"],
      output: { shard: i, of: "${tasks.root.output.shards}" },
    })),
    {
      id: "join",
      type: "noop",
      depends_on: ids.length > 0 ? ids : ["root"],
      output: { label: "${params.label}" },
    },
  ];
  return {
    name,
    params: { label: "wide" },
    tasks: tasks.slice(0, Math.max(1, count)),
  };
}
