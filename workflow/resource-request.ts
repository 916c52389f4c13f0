/**
 * A task's `resources` (SPEC §3) in the units the dispatcher compares:
 * thousandths of a core, bytes, whole GPUs. Parsed once, when the run
 * starts; a claim compares numbers and never reads a quantity.
 */
import { type JsonObject, quantityValue } from "../plugin-sdk/index.js";
import { isObject } from "./field-rules.js";

/** What one task asks of the agent that runs it. Keys as stored. */
export interface ResourceRequest {
  cpu_millis: number;
  memory_bytes: number;
  gpu_count: number;
  /** Wanted GPU model, matched as {@link gpuTypeMatches} says. */
  gpu_type?: string;
  /** The same match as a regular expression, for the claim's SQL. */
  gpu_type_pattern?: string;
  /** Memory each of the task's GPUs must have. */
  gpu_memory_bytes?: number;
  storage_bytes: number;
  storage_type?: string;
}

/**
 * The request a checked `resources` block makes, or null when it asks
 * for nothing (absent, or every amount zero): such a task fits any agent
 * with a free slot. CPU and memory round up, never asking for less than
 * written. Throws on a value the checker would refuse.
 */
export function resourceRequest(
  resources: JsonObject | undefined,
): ResourceRequest | null {
  if (resources === undefined) return null;
  const gpu = resources.gpu;
  const gpuObject = isObject(gpu) ? gpu : undefined;
  const storage = resources.storage;
  const storageObject = isObject(storage) ? storage : undefined;
  const request: ResourceRequest = {
    cpu_millis: amount(resources.cpu, 1000),
    memory_bytes: amount(resources.memory, 1),
    gpu_count:
      gpuObject !== undefined
        ? amount(gpuObject.count ?? 1, 1)
        : amount(gpu ?? 0, 1),
    storage_bytes: amount(storageObject ? storageObject.size : storage, 1),
  };
  if (typeof gpuObject?.type === "string" && words(gpuObject.type).length) {
    request.gpu_type = gpuObject.type;
    request.gpu_type_pattern = gpuTypePattern(gpuObject.type);
  }
  if (gpuObject?.memory !== undefined) {
    request.gpu_memory_bytes = amount(gpuObject.memory, 1);
  }
  if (typeof storageObject?.type === "string" && storageObject.type !== "") {
    request.storage_type = storageObject.type;
  }
  const asks =
    request.cpu_millis > 0 ||
    request.memory_bytes > 0 ||
    request.gpu_count > 0 ||
    request.storage_bytes > 0 ||
    request.storage_type !== undefined;
  return asks ? request : null;
}

/**
 * Whether a GPU the agent reports (its driver's model name, "NVIDIA H100
 * 80GB HBM3") is of the type a task wants ("nvidia-h100", "H100"): the
 * wanted words appear in order as whole words of the model's name, case
 * and punctuation aside. "h100" matches "NVIDIA H100 PCIe" and not
 * "NVIDIA H1000".
 */
export function gpuTypeMatches(model: string, wanted: string): boolean {
  const have = words(model);
  const want = words(wanted);
  if (want.length === 0) return true;
  for (let start = 0; start + want.length <= have.length; start++) {
    if (want.every((word, i) => have[start + i] === word)) return true;
  }
  return false;
}

/**
 * {@link gpuTypeMatches} as a POSIX regular expression over the model's
 * name in lower case: the words, separated by anything else, bounded.
 */
export function gpuTypePattern(wanted: string): string {
  return `(^|[^a-z0-9])${words(wanted).join("[^a-z0-9]+")}($|[^a-z0-9])`;
}

/** The largest amount a request may hold: the claim compares in bigint. */
const MAX_REQUEST_AMOUNT = Number.MAX_SAFE_INTEGER;

/**
 * A quantity in whole `unit`s, rounded up (a hair of float error aside:
 * "0.1" CPU is 100 millis, not 101); undefined when it is not a quantity
 * or past {@link MAX_REQUEST_AMOUNT}.
 */
export function requestAmount(
  value: unknown,
  unit: number,
): number | undefined {
  const parsed = quantityValue(value);
  if (parsed === undefined) return undefined;
  const rounded = Math.max(0, Math.ceil(parsed * unit - 1e-9));
  return rounded <= MAX_REQUEST_AMOUNT ? rounded : undefined;
}

/** An amount of a request; an absent one is none. */
function amount(value: unknown, unit: number): number {
  const counted = requestAmount(value ?? 0, unit);
  if (counted === undefined) {
    throw new RangeError(
      `${JSON.stringify(value)} is not a quantity of at most ${MAX_REQUEST_AMOUNT} units`,
    );
  }
  return counted;
}

function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}
