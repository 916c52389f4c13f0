import { describe, expect, it } from "vitest";
import { claimSettleRound, describeCost } from "./claim-settle-loop.js";

const serverUrl = process.env.TEST_DATABASE_URL;

describe.skipIf(serverUrl === undefined)("claim-settle loop", () => {
  it("claims and settles every task of a run on real PostgreSQL, and says what each cost", async () => {
    const cost = await claimSettleRound(serverUrl as string, 600);
    expect(cost.tasks).toBe(600);
    expect(cost.databaseCpuUs).toBeGreaterThanOrEqual(0);
    expect(cost.clientCpuUs).toBeGreaterThan(0);
    expect(describeCost(cost)).toMatch(
      /^600 tasks: StartRun \d+ ms, loop \d+ ms \(\d+ tasks\/s\); database CPU [\d.]+ µs a task, this process [\d.]+ µs/,
    );
  });
});
