import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../../core/index.js";
import {
  isCompressedWithoutEncoding,
  toConnectError,
} from "./connect-errors.js";

/**
 * Maps an error an RPC threw to the ConnectError its caller gets, and
 * logs the ones that are our fault.
 */
export function rpcErrorMapper(
  logger: Logger,
): (error: unknown, procedure: string) => ConnectError {
  return (error, procedure) => {
    const mapped = toConnectError(error);
    if (isCompressedWithoutEncoding(mapped)) {
      logger.warn({ procedure, code: "internal" }, mapped.rawMessage);
    } else if (
      mapped.code === Code.Internal ||
      // Ours when the database failed; a ConnectError already when we
      // said so on purpose (the control plane is stopping).
      (mapped.code === Code.Unavailable && !(error instanceof ConnectError))
    ) {
      logger.error({ err: error, procedure }, "request failed");
    }
    return mapped;
  };
}

/** Maps every error an RPC throws, also mid-stream, with `map`. */
export function errorInterceptor(
  map: (error: unknown, procedure: string) => ConnectError,
): Interceptor {
  return (next) => async (req) => {
    try {
      const res = await next(req);
      if (!res.stream) return res;
      const source = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* source;
          } catch (error) {
            throw map(error, req.method.name);
          }
        })(),
      };
    } catch (error) {
      throw map(error, req.method.name);
    }
  };
}
