/** One requirement of an equality-based label selector. */
type Requirement =
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "exists" | "!exists" };

/** A parsed label selector: `a=b,c!=d,e,!f`. */
export type LabelSelector = Requirement[];

/**
 * Parses the equality-based label selectors the stand-in supports (set
 * based ones, `in (...)`, are not). Throws on anything else, as the API
 * server answers 400 to a selector it cannot parse.
 */
export function parseLabelSelector(text: string): LabelSelector {
  const requirements: LabelSelector = [];
  for (const raw of text.split(",")) {
    const part = raw.trim();
    if (part === "") continue;
    const match = /^([^=!\s]+)\s*(==|=|!=)\s*([^=!\s]*)$/.exec(part);
    if (match) {
      const [, key = "", op, value = ""] = match;
      requirements.push({ key, op: op === "!=" ? "!=" : "=", value });
    } else if (/^![^=!\s]+$/.test(part)) {
      requirements.push({ key: part.slice(1), op: "!exists" });
    } else if (/^[^=!\s()]+$/.test(part)) {
      requirements.push({ key: part, op: "exists" });
    } else {
      throw new Error(`unable to parse requirement: "${part}"`);
    }
  }
  return requirements;
}

/** Whether `labels` satisfy every requirement. */
export function selects(
  selector: LabelSelector,
  labels: Record<string, string> | undefined,
): boolean {
  const own = labels ?? {};
  return selector.every((r) => {
    const has = Object.hasOwn(own, r.key);
    if (r.op === "=") return has && own[r.key] === r.value;
    if (r.op === "!=") return !has || own[r.key] !== r.value;
    return r.op === "exists" ? has : !has;
  });
}
