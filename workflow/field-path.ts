/**
 * Appends a key or list index to a dotted field path:
 * `("config", "args")` is "config.args", `("config.args", 1)` is
 * "config.args[1]", `("", "name")` is "name".
 */
export function fieldPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return base === "" ? key : `${base}.${key}`;
}
