import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { rpcSeconds, rpcsHandled } from "./process-metrics.js";

/**
 * Counts each API call by method and status code, and times unary ones.
 * A stream is counted when it ends. Outermost, so it sees the codes
 * callers get (after the error interceptor's mapping).
 */
export const rpcMetrics: Interceptor = (next) => async (req) => {
  const method = req.method.name;
  const started = performance.now();
  const done = (error?: unknown) => {
    if (!req.stream) {
      rpcSeconds.observe({ method }, (performance.now() - started) / 1000);
    }
    rpcsHandled.inc({ method, code: codeName(error) });
  };
  let res: Awaited<ReturnType<typeof next>>;
  try {
    res = await next(req);
  } catch (error) {
    done(error);
    throw error;
  }
  if (!res.stream) {
    done();
    return res;
  }
  const source = res.message;
  return {
    ...res,
    message: (async function* () {
      let ended: { error?: unknown } | undefined;
      try {
        yield* source;
        ended = {};
      } catch (error) {
        ended = { error };
        throw error;
      } finally {
        // Neither: the caller went away before the stream's end.
        done(ended ? ended.error : new ConnectError("", Code.Canceled));
      }
    })(),
  };
};

/** "ok", or the code's name as the Connect protocol spells it ("not_found"). */
function codeName(error: unknown): string {
  return error === undefined
    ? "ok"
    : codeToString(ConnectError.from(error).code);
}
