import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../gen/grpc/health/v1/health_pb.js";

/** How often Watch looks again for a change of status. */
const WATCH_INTERVAL_MS = 1000;

/**
 * grpc.health.v1.Health. The empty name means the whole server; the
 * other names are the services this server serves. Check answers
 * NotFound for any other name and Watch reports SERVICE_UNKNOWN, as the
 * health protocol specifies.
 */
export function createHealthService(
  isServing: () => boolean,
  services: readonly string[],
): ServiceImpl<typeof Health> {
  const known = new Set(["", ...services]);
  const status = (service: string) => {
    if (!known.has(service)) return Status.SERVICE_UNKNOWN;
    return isServing() ? Status.SERVING : Status.NOT_SERVING;
  };
  return {
    check(req) {
      if (!known.has(req.service)) {
        throw new ConnectError(
          `service: "${req.service}" is not served here`,
          Code.NotFound,
        );
      }
      return { status: status(req.service) };
    },
    async *watch(req, ctx) {
      let last: Status | undefined;
      while (!ctx.signal.aborted) {
        const now = status(req.service);
        if (now !== last) {
          yield { status: now };
          last = now;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, WATCH_INTERVAL_MS);
          ctx.signal.addEventListener(
            "abort",
            () => {
              clearTimeout(timer);
              resolve();
            },
            { once: true },
          );
        });
      }
    },
  };
}
