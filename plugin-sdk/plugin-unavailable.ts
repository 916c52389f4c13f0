/**
 * Thrown by a plugin's `probe()` when its task type cannot run on this host,
 * for example spark where no spark-submit is found. The agent logs the
 * reason and does not advertise the type, so no task of it is sent there.
 */
export class PluginUnavailableError extends Error {
  override readonly name = "PluginUnavailableError";
}
