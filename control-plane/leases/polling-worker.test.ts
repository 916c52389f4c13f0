import { describe, expect, it } from "vitest";
import { systemClock } from "../../core/index.js";
import { agentGone } from "../agents/replicas-gone.js";
import type { ClaimedAssignment } from "../dispatch/claim-tasks.js";
import {
  POLLER_SILENT_MS,
  POLLING_SESSION,
  PollingWorker,
} from "./polling-worker.js";

const assignment = (taskId: string) =>
  ({ taskId, leaseId: `lease-${taskId}` }) as ClaimedAssignment;

function pollingWorker() {
  const late: ClaimedAssignment[] = [];
  const worker = new PollingWorker("poller", ["shell"], {}, (given) =>
    late.push(...given),
  );
  return { worker, late };
}

describe("PollingWorker", () => {
  it("offers one slot until an assignment arrives, and answers with it", async () => {
    const { worker, late } = pollingWorker();
    expect(worker.freeSlots()).toBe(1);
    const next = worker.next(systemClock, 60_000, undefined);
    worker.deliver([assignment("a"), assignment("b")]);
    expect(await next).toEqual(assignment("a"));
    // One per call: the second goes back.
    expect(late).toEqual([assignment("b")]);
    expect(worker.freeSlots()).toBe(0);
    expect(worker.accepting()).toBe(false);
  });

  it("answers nothing when the wait runs out, and gives back what comes later", async () => {
    const { worker, late } = pollingWorker();
    expect(await worker.next(systemClock, 10, undefined)).toBeUndefined();
    expect(worker.freeSlots()).toBe(0);
    worker.deliver([assignment("late")]);
    expect(late).toEqual([assignment("late")]);
  });

  it("stops waiting when the caller goes away", async () => {
    const { worker } = pollingWorker();
    const gone = new AbortController();
    const next = worker.next(systemClock, 60_000, gone.signal);
    gone.abort();
    expect(await next).toBeUndefined();
    expect(worker.accepting()).toBe(false);
  });

  it("keeps waiting through an empty delivery (a task whose secrets failed)", async () => {
    const { worker } = pollingWorker();
    const next = worker.next(systemClock, 60_000, undefined);
    worker.deliver([]);
    expect(worker.freeSlots()).toBe(1);
    worker.deliver([assignment("a")]);
    expect(await next).toEqual(assignment("a"));
  });
});

describe("agentGone for a polling worker", () => {
  const now = 1_000_000_000;
  const poller = (heardAgoMs: number) => ({
    state: "CONNECTED" as const,
    replicaId: "replica-1",
    sessionId: POLLING_SESSION,
    lastHeartbeatAt: new Date(now - heardAgoMs),
  });

  it("is connected while it keeps calling, whatever its replica", () => {
    expect(agentGone(poller(1_000), new Set(["replica-1"]), now)).toBe(false);
  });

  it("is gone once silent longer than POLLER_SILENT_MS", () => {
    expect(agentGone(poller(POLLER_SILENT_MS + 1), new Set(), now)).toBe(true);
  });

  it("leaves a streaming agent to its replica's fate", () => {
    const streaming = { ...poller(10 * POLLER_SILENT_MS), sessionId: "s-1" };
    expect(agentGone(streaming, new Set(), now)).toBe(false);
    expect(agentGone(streaming, new Set(["replica-1"]), now)).toBe(true);
  });
});
