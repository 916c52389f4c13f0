/**
 * How an agent label's key is written: what an agent may declare, and so
 * what a task's node_selector and affinity may name. A key outside it
 * could never match, and the task would wait forever.
 */
export const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,62}$/;

/** What LABEL_KEY asks, said to a person. */
export const LABEL_KEY_RULE =
  "must be 1 to 63 letters, digits, '_', '.', '/' or '-', starting with a letter or digit";

/** The most slots an agent may offer. */
export const MAX_AGENT_SLOTS = 10_000;
