/**
 * The naming rules of the Kubernetes API (DNS-1123 names, label keys and
 * values), checked here so a bad name fails before any request with a
 * message that names the config field.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Longest DNS-1123 label, label name and label value. */
export const MAX_LABEL_CHARS = 63;

/** A DNS-1123 label: namespaces, container names, Job names. */
export function isDnsLabel(value: string): boolean {
  return value.length <= MAX_LABEL_CHARS && DNS_LABEL.test(value);
}

/** A DNS-1123 subdomain: service account names, label key prefixes. */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && DNS_SUBDOMAIN.test(value);
}

/** A label key: an optional DNS subdomain prefix and `/`, then a name. */
export function isLabelKey(key: string): boolean {
  const slash = key.indexOf("/");
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (slash !== -1 && !isDnsSubdomain(key.slice(0, slash))) return false;
  return name.length <= MAX_LABEL_CHARS && LABEL_NAME.test(name);
}

/** A label value: empty, or up to 63 characters of `[-A-Za-z0-9_.]`. */
export function isLabelValue(value: string): boolean {
  return (
    value === "" || (value.length <= MAX_LABEL_CHARS && LABEL_NAME.test(value))
  );
}

/**
 * Makes any string a valid label value: characters a label may not hold
 * become `_`, it is cut to 63 characters and trimmed to start and end
 * with a letter or digit. The exact value goes into an annotation too,
 * since this mapping is not one-to-one (task ids like `process[0]`).
 */
export function toLabelValue(value: string): string {
  const replaced = value.replace(/[^-A-Za-z0-9_.]/g, "_");
  return replaced
    .slice(0, MAX_LABEL_CHARS)
    .replace(/^[^A-Za-z0-9]+/, "")
    .replace(/[^A-Za-z0-9]+$/, "");
}
