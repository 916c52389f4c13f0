import { describe, expect, it } from "vitest";
import { POLLER_SILENT_MS, POLLING_SESSION } from "../leases/polling-worker.js";
import { agentGone } from "./replicas-gone.js";

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
