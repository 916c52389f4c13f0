import type { ServerResponse } from "node:http";
import type { StandInPod } from "./stand-in-pod.js";
import { failure, type StatusReply } from "./stand-in-status.js";

/**
 * GET .../pods/{name}/log for the stand-in: 400 for a container that is
 * not named when it must be, not in the pod, or not started yet (as the
 * API server says it); else the log as text/plain, and with
 * `follow=true` the lines as they come until the container stops.
 * Undefined once the response is being sent.
 */
export function servePodLog(
  res: ServerResponse,
  url: URL,
  pod: StandInPod,
): StatusReply | undefined {
  const name = pod.name;
  const names = pod.containers.filter((c) => !c.init).map((c) => c.name);
  const wanted =
    url.searchParams.get("container") ??
    (names.length === 1 ? names[0] : undefined);
  if (wanted === undefined) {
    return failure(
      400,
      "BadRequest",
      `a container name must be specified for pod ${name}, choose one of: [${names.join(" ")}]`,
    );
  }
  const container = pod.containers.find((c) => c.name === wanted);
  if (!container) {
    return failure(
      400,
      "BadRequest",
      `container ${wanted} is not valid for pod ${name}`,
    );
  }
  if ("waiting" in container.state) {
    const { reason, message } = container.state.waiting;
    return failure(
      400,
      "BadRequest",
      `container "${wanted}" in pod "${name}" is waiting to start: ${message ?? reason}`,
    );
  }
  res.writeHead(200, { "content-type": "text/plain" });
  for (const line of container.lines) res.write(`${line}\n`);
  const follow = url.searchParams.get("follow") === "true";
  if (!follow || "terminated" in container.state) {
    res.end();
    return undefined;
  }
  const onLine = (line: string) => res.write(`${line}\n`);
  const onEnd = () => {
    unsubscribe();
    res.end();
  };
  const unsubscribe = () => {
    container.events.off("line", onLine);
    container.events.off("end", onEnd);
  };
  container.events.on("line", onLine);
  container.events.on("end", onEnd);
  res.on("close", unsubscribe);
  return undefined;
}
