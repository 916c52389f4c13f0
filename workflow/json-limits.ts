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
  type Deep = Place & { depth: number };
  const stack: Deep[] = [{ value, parent: undefined, step: "", depth: 0 }];
  while (stack.length > 0) {
    const place = stack.pop() as Deep;
    const item = place.value;
    if (item === null || typeof item !== "object") continue;
    if (place.depth >= maxDepth) return pathOf(place);
    const depth = place.depth + 1;
    if (Array.isArray(item)) {
      item.forEach((child, i) => {
        stack.push({ value: child, parent: place, step: i, depth });
      });
    } else {
      for (const [key, child] of Object.entries(item)) {
        stack.push({ value: child, parent: place, step: key, depth });
      }
    }
  }
  return undefined;
}

/** A message naming the field, for a value nested too deep. */
export function tooDeepMessage(maxDepth = MAX_JSON_DEPTH): string {
  return `nested deeper than ${maxDepth} levels of objects and lists`;
}

/**
 * Where a JSON value holds a NUL character (`\u0000`), in a string or a
 * key: PostgreSQL stores neither in jsonb nor in text. The path as
 * findTooDeep gives it ("" for the top, ".a[2]" below), or undefined.
 */
export function findNul(value: unknown): string | undefined {
  return textPaths(value, hasNul, 1)[0];
}

/** Every path {@link findNul} could give, in document order. */
export function nulPaths(value: unknown): string[] {
  return textPaths(value, hasNul);
}

/**
 * Where `value` holds a string or key with a lone UTF-16 surrogate: not
 * Unicode text, so PostgreSQL refuses it. JSON text can spell one
 * (`"\ud800"`); the API's binary messages cannot carry one. The path as
 * findNul gives it, or undefined.
 */
export function findLoneSurrogate(value: unknown): string | undefined {
  return textPaths(value, hasLoneSurrogate, 1)[0];
}

/** Every path {@link findLoneSurrogate} could give, in document order. */
export function loneSurrogatePaths(value: unknown): string[] {
  return textPaths(value, hasLoneSurrogate);
}

const hasNul = (text: string) => text.includes("\u0000");

const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const hasLoneSurrogate = (text: string) => LONE_SURROGATE.test(text);

/** A message naming the field, for a value with a lone surrogate. */
export const LONE_SURROGATE_MESSAGE =
  "holds a lone UTF-16 surrogate (\\uD800 to \\uDFFF alone), which is not text";

/** A place in a walked value: its parent and the step from there. */
interface Place {
  value: unknown;
  parent: Place | undefined;
  /** An index, or a key. */
  step: number | string;
  /** A key that was found, reported in its turn. */
  isKey?: boolean;
}

/**
 * The paths of the strings and keys in `value` that `bad` accepts (told
 * which are keys), in document order, at most `limit` of them. Paths are
 * spelled only for what is found: a place knows its parent, not its
 * path. Iterative, so any depth is safe to walk.
 */
function textPaths(
  value: unknown,
  bad: (text: string, isKey: boolean) => boolean,
  limit = Number.POSITIVE_INFINITY,
): string[] {
  const found: string[] = [];
  const stack: Place[] = [{ value, parent: undefined, step: "" }];
  while (stack.length > 0 && found.length < limit) {
    const place = stack.pop() as Place;
    const item = place.value;
    if (place.isKey) {
      found.push(keyPathOf(place));
      continue;
    }
    if (typeof item === "string") {
      if (bad(item, false)) found.push(pathOf(place));
      continue;
    }
    if (item === null || typeof item !== "object") continue;
    const children: Place[] = [];
    if (Array.isArray(item)) {
      item.forEach((child, i) => {
        children.push({ value: child, parent: place, step: i });
      });
    } else {
      for (const [key, child] of Object.entries(item)) {
        // A bad key is reported, not its value: it is the key to fix.
        if (bad(key, true)) {
          children.push({ value: key, parent: place, step: key, isKey: true });
        } else children.push({ value: child, parent: place, step: key });
      }
    }
    // Pushed last first, so that the first child is looked at first.
    for (let i = children.length - 1; i >= 0; i--) {
      stack.push(children[i] as Place);
    }
  }
  return found;
}

/** A place's path as findTooDeep spells it: "" for the top, ".a[2]" below. */
function pathOf(place: Place): string {
  const steps: string[] = [];
  for (let at: Place | undefined = place; at?.parent; at = at.parent) {
    steps.push(typeof at.step === "number" ? `[${at.step}]` : `.${at.step}`);
  }
  return steps.reverse().join("");
}

/** A reported key's path, the key as JSON spells it (a NUL as `\u0000`). */
function keyPathOf(place: Place): string {
  const parent = place.parent ? pathOf(place.parent) : "";
  return `${parent}.${escaped(String(place.step))}`;
}

/**
 * Every path of a `__proto__` key in `value`, in document order. JSON and
 * YAML keep it as data, but the protobuf messages that carry config, env
 * and labels to agents are plain objects, where assigning it sets the
 * prototype: the key would be lost on the way, without a word.
 */
export function protoKeyPaths(value: unknown): string[] {
  return textPaths(value, isProtoKey);
}

const isProtoKey = (text: string, isKey: boolean) =>
  isKey && text === "__proto__";

/** A message naming the field, for a `__proto__` key. */
export const PROTO_KEY_MESSAGE =
  "is a key no JavaScript object keeps as data (it names the object's prototype): rename it";

/** A key as JSON spells it inside quotes: a NUL as `\u0000`. */
function escaped(key: string): string {
  return JSON.stringify(key).slice(1, -1);
}

/** A message naming the field, for a value that holds a NUL. */
export const NUL_MESSAGE =
  "holds a NUL character (\\u0000), which cannot be stored";

/** Text with each NUL replaced by U+FFFD, so that it can be stored. */
export function replaceNul(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
}

/** A JSON value with each NUL in its strings and keys replaced (replaceNul). */
export function replaceNulIn<T>(value: T): T {
  if (findNul(value) === undefined) return value;
  return mapStrings(value) as T;
}

function mapStrings(value: unknown): unknown {
  if (typeof value === "string") return replaceNul(value);
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(mapStrings);
  const mapped: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    Object.defineProperty(mapped, replaceNul(key), {
      value: mapStrings(child),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return mapped;
}
