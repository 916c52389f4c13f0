/**
 * The task `secrets:` block (SPEC §3): a map from the name the task sees
 * to where the control plane reads the value at dispatch. One reader
 * serves the validator (which reports) and the dispatcher (which throws).
 */
import type { JsonObject } from "../plugin-sdk/index.js";
import { isObject, kindOf, type Report, show } from "./field-rules.js";
import { setOwn } from "./set-own.js";

/**
 * The names a task sees (keys of the block) and built-in store names:
 * environment-variable shaped, so each secret can also be an environment
 * variable and `${secrets.NAME}` is a plain CEL name.
 */
export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Longest secret name, in characters. */
export const MAX_SECRET_NAME_CHARS = 256;

/** Most secrets one task may receive. */
export const MAX_TASK_SECRETS = 100;

/** Where secret values come from. */
export type SecretProvider =
  /** The control plane's built-in store, encrypted at rest. */
  | "store"
  /** The control plane's environment (names the server allows). */
  | "env"
  /** HashiCorp Vault, KV version 2. */
  | "vault"
  /** A Kubernetes Secret (core/v1). */
  | "kubernetes";

export const SECRET_PROVIDERS: readonly SecretProvider[] = [
  "store",
  "env",
  "vault",
  "kubernetes",
];

/** One entry of a secrets block, with its defaults filled in. */
export type SecretSource =
  | { provider: "store"; name: string }
  | { provider: "env"; name: string }
  | { provider: "vault"; mount: string; path: string; key: string }
  | { provider: "kubernetes"; namespace: string; name: string; key: string };

/** The Vault mount when the entry names none. */
export const DEFAULT_VAULT_MOUNT = "secret";
/** The Kubernetes namespace when the entry names none. */
export const DEFAULT_KUBERNETES_NAMESPACE = "default";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const KUBERNETES_KEY = /^[-._a-zA-Z0-9]+$/;
/** A Vault path segment: no empty, "." or ".." segments, no URL syntax. */
const VAULT_SEGMENT = /^[A-Za-z0-9_.@+=-]+$/;

const FIELDS: Record<SecretProvider, readonly string[]> = {
  store: ["provider", "name"],
  env: ["provider", "name"],
  vault: ["provider", "mount", "path", "key"],
  kubernetes: ["provider", "namespace", "name", "key"],
};

/** Checks a secret name (a block key or a store name); a problem or "". */
export function secretNameProblem(name: string): string {
  if (name === "") return "must not be empty";
  if (name.length > MAX_SECRET_NAME_CHARS) {
    return `must be at most ${MAX_SECRET_NAME_CHARS} characters`;
  }
  if (!SECRET_NAME_PATTERN.test(name)) {
    return `"${name}" must match [A-Za-z_][A-Za-z0-9_]* (letters, digits, "_")`;
  }
  return "";
}

/**
 * Reads a task's `secrets` block. Returns the block as written (so the
 * stored definition reads like its file) when every entry is valid, else
 * undefined after reporting each problem under `field`.
 */
export function readSecretsBlock(
  value: unknown,
  field: string,
  report: Report,
): JsonObject | undefined {
  if (!isObject(value)) {
    report(
      field,
      `must be a map of secret names to sources, not ${kindOf(value)}`,
    );
    return undefined;
  }
  const entries = Object.entries(value);
  let ok = true;
  if (entries.length > MAX_TASK_SECRETS) {
    report(field, `has ${entries.length} secrets; at most ${MAX_TASK_SECRETS}`);
    ok = false;
  }
  const block: JsonObject = {};
  for (const [name, source] of entries) {
    const here = `${field}.${name}`;
    const nameProblem = secretNameProblem(name);
    if (nameProblem !== "") {
      report(here, `the name the task sees ${nameProblem}`);
      ok = false;
      continue;
    }
    if (readSecretSource(source, here, report) === undefined) ok = false;
    else setOwn(block, name, source);
  }
  return ok ? block : undefined;
}

/**
 * Reads one entry: a built-in store name, or `{ provider, ... }`. Returns
 * it with defaults filled in, or undefined after reporting.
 */
export function readSecretSource(
  value: unknown,
  field: string,
  report: Report,
): SecretSource | undefined {
  if (typeof value === "string") {
    const problem = secretNameProblem(value);
    if (problem === "") return { provider: "store", name: value };
    report(field, `the built-in store name ${problem}`);
    return undefined;
  }
  if (!isObject(value)) {
    report(
      field,
      `must be a built-in store name or { provider, ... }, not ${kindOf(value)}`,
    );
    return undefined;
  }
  const provider = value.provider;
  if (!SECRET_PROVIDERS.includes(provider as SecretProvider)) {
    const known = SECRET_PROVIDERS.join(", ");
    const problem =
      provider === undefined ? "is required" : `${show(provider)} is unknown`;
    report(`${field}.provider`, `${problem} (providers: ${known})`);
    return undefined;
  }
  return readProviderFields(provider as SecretProvider, value, field, report);
}

function readProviderFields(
  provider: SecretProvider,
  value: JsonObject,
  field: string,
  report: Report,
): SecretSource | undefined {
  let problems = 0;
  const counted: Report = (f, m) => {
    problems += 1;
    report(f, m);
  };
  for (const key of Object.keys(value)) {
    if (!FIELDS[provider].includes(key)) {
      counted(
        `${field}.${key}`,
        `unknown field "${key}" for provider ${provider} ` +
          `(known: ${FIELDS[provider].join(", ")})`,
      );
    }
  }
  const text = (key: string, check: (s: string) => string, fallback?: string) =>
    textField(value, key, `${field}.${key}`, check, counted, fallback);
  let source: SecretSource | undefined;
  switch (provider) {
    case "store":
      source = { provider, name: text("name", secretNameProblem) };
      break;
    case "env":
      source = { provider, name: text("name", secretNameProblem) };
      break;
    case "vault":
      source = {
        provider,
        mount: text("mount", vaultPathProblem, DEFAULT_VAULT_MOUNT),
        path: text("path", vaultPathProblem),
        key: text("key", nonEmptyProblem),
      };
      break;
    case "kubernetes":
      source = {
        provider,
        namespace: text(
          "namespace",
          patternProblem(DNS_LABEL, 63, "a DNS label"),
          DEFAULT_KUBERNETES_NAMESPACE,
        ),
        name: text("name", patternProblem(DNS_SUBDOMAIN, 253, "a DNS name")),
        key: text("key", patternProblem(KUBERNETES_KEY, 253, "a Secret key")),
      };
      break;
  }
  return problems === 0 ? source : undefined;
}

function textField(
  value: JsonObject,
  key: string,
  field: string,
  check: (text: string) => string,
  report: Report,
  fallback?: string,
): string {
  const raw = value[key];
  if (raw === undefined && fallback !== undefined) return fallback;
  if (raw === undefined) {
    report(field, "is required");
    return "";
  }
  if (typeof raw !== "string") {
    report(field, `must be a string, not ${kindOf(raw)}`);
    return "";
  }
  const problem = check(raw);
  if (problem !== "") report(field, problem);
  return raw;
}

function nonEmptyProblem(text: string): string {
  return text === "" ? "must not be empty" : "";
}

/** "app/db": segments joined by "/", each safe to put in a URL path. */
function vaultPathProblem(text: string): string {
  if (text === "") return "must not be empty";
  const bad = text
    .split("/")
    .find((s) => s === "." || s === ".." || !VAULT_SEGMENT.test(s));
  if (bad === undefined) return "";
  return (
    `"${text}" must be segments joined by "/", each of letters, digits ` +
    `and _ . @ + = - (no empty, "." or ".." segment)`
  );
}

function patternProblem(pattern: RegExp, max: number, what: string) {
  return (text: string): string =>
    text.length <= max && pattern.test(text)
      ? ""
      : `"${text}" is not ${what} (at most ${max} characters)`;
}

/** A source as messages name it: "vault secret/app/db#password". */
export function describeSecretSource(source: SecretSource): string {
  switch (source.provider) {
    case "store":
      return `store ${source.name}`;
    case "env":
      return `env ${source.name}`;
    case "vault":
      return `vault ${source.mount}/${source.path}#${source.key}`;
    case "kubernetes":
      return `kubernetes ${source.namespace}/${source.name}#${source.key}`;
  }
}
