// @ts-check
/**
 * `port_sensor`: waits until a TCP port accepts connections, like a sensor
 * in other schedulers. Downstream tasks (a migration, a load test) then
 * start only once the service they need is up.
 *
 * A Deer Flow plugin module exports a factory as default: the agent calls
 * it with its plugin SDK, so this package needs no dependency of its own.
 */
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** @typedef {import("deerflow/plugin-sdk").PluginSdk} PluginSdk */
/** @typedef {import("deerflow/plugin-sdk").TaskContext} TaskContext */

const configSchema = {
  type: "object",
  properties: {
    host: {
      type: "string",
      minLength: 1,
      description: "The host to connect to.",
    },
    port: { type: "integer", minimum: 1, maximum: 65535 },
    interval_ms: {
      type: "integer",
      minimum: 10,
      default: 1000,
      description: "Milliseconds between attempts to connect.",
    },
    give_up_after_ms: {
      type: "integer",
      minimum: 1,
      description:
        "Fail once the port has stayed closed this long. Without it, the " +
        "sensor waits until the task's timeout.",
    },
  },
  required: ["host", "port"],
  additionalProperties: false,
};

/** @param {PluginSdk} sdk */
export default (sdk) =>
  sdk.definePlugin({
    type: "port_sensor",
    version: "1.0.0",
    description: "Waits until a TCP port accepts connections.",
    configSchema,
    /** @param {TaskContext<{ host: string; port: number; interval_ms?: number; give_up_after_ms?: number }>} ctx */
    async execute(ctx) {
      const { host, port, interval_ms = 1000, give_up_after_ms } = ctx.config;
      const started = Date.now();
      ctx.log.info("waiting for the port", { host, port });
      for (let tries = 1; ; tries++) {
        const error = await tryConnect(host, port, ctx.signal);
        if (error === undefined) {
          const waitedMs = Date.now() - started;
          ctx.log.info("the port is open", { host, port, tries });
          ctx.metrics.timer("port_sensor_wait", waitedMs);
          ctx.output({ host, port, tries, waited_ms: waitedMs });
          return;
        }
        ctx.signal.throwIfAborted();
        if (
          give_up_after_ms !== undefined &&
          Date.now() - started >= give_up_after_ms
        ) {
          throw new sdk.TaskError(
            `${host}:${port} stayed closed for ${give_up_after_ms} ms (last error: ${error})`,
          );
        }
        ctx.log.debug("the port is closed; trying again", { tries, error });
        await sleep(interval_ms, undefined, { signal: ctx.signal });
      }
    },
  });

/**
 * Connects once. Resolves undefined when the connection opened, else the
 * error's code; rejects only when the signal aborts.
 * @param {string} host
 * @param {number} port
 * @param {AbortSignal} signal
 * @returns {Promise<string | undefined>}
 */
function tryConnect(host, port, signal) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const onAbort = () => {
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      signal.removeEventListener("abort", onAbort);
      socket.end();
      resolve(undefined);
    });
    socket.once("error", (/** @type {NodeJS.ErrnoException} */ error) => {
      signal.removeEventListener("abort", onAbort);
      resolve(error.code ?? error.message);
    });
  });
}

/**
 * The cases of the shared conformance suite (`deerflow plugin test .`):
 * a port that is open, one that stays closed, and bad configs.
 */
export async function conformance() {
  const server = net.createServer((socket) => socket.end());
  await new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve(undefined)),
  );
  const address = /** @type {import("node:net").AddressInfo} */ (
    server.address()
  );
  const closed = await closedPort();
  return {
    cases: {
      success: { config: { host: "127.0.0.1", port: address.port } },
      failure: {
        config: {
          host: "127.0.0.1",
          port: closed,
          interval_ms: 10,
          give_up_after_ms: 50,
        },
      },
      longRunning: {
        config: { host: "127.0.0.1", port: closed, interval_ms: 50 },
      },
      invalidConfigs: [
        { config: { host: "127.0.0.1" }, field: "config.port" },
        { config: { host: "127.0.0.1", port: 70000 }, field: "config.port" },
        { config: { host: "", port: 80 }, field: "config.host" },
        {
          config: { host: "x", port: 80, retries: 3 },
          field: "config.retries",
        },
      ],
    },
    dispose: () =>
      new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}

/** A loopback port nobody listens on: bound, noted, then released. */
async function closedPort() {
  const probe = net.createServer();
  await new Promise((resolve) =>
    probe.listen(0, "127.0.0.1", () => resolve(undefined)),
  );
  const { port } = /** @type {import("node:net").AddressInfo} */ (
    probe.address()
  );
  await new Promise((resolve) => probe.close(() => resolve(undefined)));
  return port;
}
