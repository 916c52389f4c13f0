/** How close() ends. */
export interface CloseOptions {
  /** How long to wait for the last results' acknowledgement; default 0. */
  resultWaitMs?: number;
}
