/**
 * Reads `source` while `handle` works: whatever arrived while the last
 * batch was handled is handed over next as one batch (at most `maxBatch`),
 * in order. So a busy handler sees many messages at once, and an idle one
 * sees each chunk as it comes: `unpack` turns what `source` yields into
 * the messages that arrived together (one message, or a batch the peer
 * sent), and such a chunk is split only past `maxBatch`. Unpacking here,
 * in the one reading loop, spares a session a generator between the
 * stream and this loop. Rejects with the source's (or `unpack`'s) error
 * once everything that arrived before it is handled, or with the
 * handler's error at once.
 */
export async function readInBatches<S, T>(
  source: AsyncIterator<S>,
  unpack: (item: S) => readonly T[],
  maxBatch: number,
  handle: (batch: T[]) => Promise<void>,
): Promise<void> {
  const inbox: T[] = [];
  let ended = false;
  let failed: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const reading = (async () => {
    try {
      for (;;) {
        const next = await source.next();
        if (next.done) break;
        // One by one: a spread of a batch of 200,000 overflows the stack.
        for (const item of unpack(next.value)) inbox.push(item);
        wake?.();
      }
    } catch (error) {
      failed = { error };
    } finally {
      ended = true;
      wake?.();
    }
  })();
  for (;;) {
    if (inbox.length > 0) {
      await handle(inbox.splice(0, maxBatch));
    } else if (ended) {
      break;
    } else {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  }
  await reading;
  if (failed !== undefined) throw failed.error;
}
