import type { ServiceImpl } from "@connectrpc/connect";
import type {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../gen/grpc/health/v1/health_pb.js";

/** Answers whether the server and a named service are serving. */
export type ServingCheck = (service: string) => Status;

/** grpc.health.v1.Health: Check, and Watch that reports changes. */
export function createHealthService(
  check: ServingCheck,
): ServiceImpl<typeof Health> {
  return {
    check: (req) => ({ status: check(req.service) }),
    async *watch(req, ctx) {
      let last: Status | undefined;
      while (!ctx.signal.aborted) {
        const status = check(req.service);
        if (status !== last) {
          yield { status };
          last = status;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1000);
          ctx.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}
