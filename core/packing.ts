/**
 * How a queue packs several items into one message: a session's batches
 * (see AsyncQueue and the agent's MessageQueue). A packed message stays
 * within `maxBytes` by `weigh` and `maxItems`, so that it never meets the
 * peer's message size or HTTP/2 memory limits; an item heavier than
 * `maxBytes` goes alone, as it would unpacked.
 */
export interface Packing<T> {
  /** One message holding `items`, in order. */
  pack(items: T[]): T;
  /** An estimate of an item's encoded size in bytes (approximateSize). */
  weigh(item: T): number;
  maxBytes: number;
  maxItems: number;
}

/** What a batch of a session holds at most: 1 MiB by estimate, 512 items. */
export const BATCH_LIMITS = { maxBytes: 1024 * 1024, maxItems: 512 } as const;

/**
 * A session's batches, either way: messages weighed by approximateSize,
 * within BATCH_LIMITS, packed into one by `pack`.
 */
export function sessionBatches<T>(pack: (items: T[]) => T): Packing<T> {
  return {
    ...BATCH_LIMITS,
    pack,
    weigh: (item) => approximateSize(item, BATCH_LIMITS.maxBytes),
  };
}

/**
 * Takes the next message off the front of `items` (not empty): as many
 * items as fit into one pack, or the first one alone.
 */
export function takePacked<T>(items: T[], packing: Packing<T> | undefined): T {
  if (packing === undefined || items.length === 1) return items.shift() as T;
  let bytes = 0;
  let count = 0;
  while (count < items.length && count < packing.maxItems) {
    const weight = packing.weigh(items[count] as T);
    if (count > 0 && bytes + weight > packing.maxBytes) break;
    bytes += weight;
    count += 1;
  }
  if (count === 1) return items.shift() as T;
  return packing.pack(items.splice(0, count));
}

/**
 * About how many bytes `value` takes encoded, counting each string's
 * UTF-16 length and a few bytes per field; stops counting past `limit`
 * (returning more than it), so a huge value costs little to weigh.
 */
export function approximateSize(value: unknown, limit: number): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && size <= limit) {
    const item = stack.pop();
    if (typeof item === "string") size += item.length + 2;
    else if (typeof item === "number" || typeof item === "bigint") size += 9;
    else if (typeof item === "boolean") size += 2;
    else if (item instanceof Uint8Array) size += item.byteLength + 2;
    else if (Array.isArray(item)) {
      size += 2;
      for (const child of item) stack.push(child);
    } else if (item !== null && typeof item === "object") {
      size += 2;
      for (const key in item) {
        size += 2;
        stack.push((item as Record<string, unknown>)[key]);
      }
    }
  }
  return size;
}
