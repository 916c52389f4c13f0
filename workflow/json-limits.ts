/**
 * Limits on the shape of user data (definitions, params, outputs), so a
 * hostile or runaway value is refused with a clear message instead of
 * exhausting a parser's stack, a protobuf decoder's recursion limit, or
 * memory.
 */

/** Deepest nesting of objects and lists accepted anywhere. */
export const MAX_JSON_DEPTH = 32;

/** Largest definition text accepted, in bytes (UTF-16 code units). */
export const MAX_DEFINITION_TEXT = 8 * 1024 * 1024;

/**
 * How deep `[` and `{` nest in JSON or YAML text, outside quoted strings.
 * Runs before any parser, in one pass with no recursion. Stops counting
 * once past `stopAt`.
 */
export function textNestingDepth(
  text: string,
  stopAt = MAX_JSON_DEPTH + 1,
): number {
  let depth = 0;
  let deepest = 0;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") {
      // In YAML a quote inside a plain word (it's) does not open a string.
      const before = text[i - 1];
      if (c === "'" && before !== undefined && /[\w]/.test(before)) continue;
      quote = c;
    } else if (c === "[" || c === "{") {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest >= stopAt) return deepest;
    } else if ((c === "]" || c === "}") && depth > 0) {
      depth--;
    }
  }
  return deepest;
}

/**
 * The path of the first value nested deeper than `maxDepth`, or undefined.
 * Iterative, so any depth is safe to check.
 */
export function findTooDeep(
  value: unknown,
  maxDepth = MAX_JSON_DEPTH,
): string | undefined {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [
    { value, depth: 0, path: "" },
  ];
  while (stack.length > 0) {
    const { value: item, depth, path } = stack.pop() as (typeof stack)[number];
    if (item === null || typeof item !== "object") continue;
    if (depth >= maxDepth) return path;
    const entries = Array.isArray(item)
      ? item.map((v, i) => [`[${i}]`, v] as const)
      : Object.entries(item).map(([k, v]) => [`.${k}`, v] as const);
    for (const [step, child] of entries) {
      stack.push({ value: child, depth: depth + 1, path: `${path}${step}` });
    }
  }
  return undefined;
}

/** A message naming the field, for a value nested too deep. */
export function tooDeepMessage(maxDepth = MAX_JSON_DEPTH): string {
  return `nested deeper than ${maxDepth} levels of objects and lists`;
}
