import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../core/index.js";
import { AssignmentSchema } from "../gen/deerflow/v1/agent_pb.js";
import { AttemptOutcome } from "../gen/deerflow/v1/run_pb.js";
import { type Plugin, pluginSdk } from "../plugin-sdk/index.js";
import { noopPlugin } from "../plugins/noop/index.js";
import { Attempt } from "./attempt.js";
import { attemptAbortGraceMs } from "./attempt-abort-grace.js";
import { ManualClock } from "./manual-clock.js";
import { renderTaskConfig } from "./render-task-config.js";

const GRACE_MS = 5_000;

/** A plugin that never ends and ignores its signal. */
const stubborn: Plugin = {
  type: "stubborn",
  version: "1.0.0",
  configSchema: { type: "object" },
  execute: () => new Promise(() => {}),
};

/** A plugin that ends as soon as its signal aborts. */
const obedient: Plugin = {
  type: "obedient",
  version: "1.0.0",
  configSchema: { type: "object" },
  execute: (ctx) =>
    new Promise((_, reject) => {
      ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
    }),
};

describe("an aborted attempt", () => {
  let workRoot: string;
  let clock: ManualClock;

  beforeEach(async () => {
    workRoot = await mkdtemp(join(tmpdir(), "deerflow-abort-"));
    clock = new ManualClock();
  });

  afterEach(async () => {
    await rm(workRoot, { recursive: true, force: true });
  });

  function attemptOf(plugin: Plugin, timeoutMs = 0): Attempt {
    return new Attempt({
      assignment: create(AssignmentSchema, {
        lease: { leaseId: "l-1", fencingToken: 1n },
        runId: "r",
        taskId: "t",
        attempt: 1,
        type: plugin.type,
        timeoutMs,
      }),
      plugin,
      workRoot,
      clock,
      logger: silentLogger(),
      renderConfig: renderTaskConfig,
      sendLogs: () => {},
      sendMetrics: () => {},
      abortGraceMs: GRACE_MS,
    });
  }

  /** Whether a sleep of `ms` is pending on the clock now. */
  async function armed(ms: number): Promise<boolean> {
    let pending = false;
    void clock.whenSleeping(ms).then(() => {
      pending = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    return pending;
  }

  it("is abandoned when its plugin outlives the grace", async () => {
    const attempt = attemptOf(stubborn);
    const result = attempt.run();
    await clock.advance(1);
    attempt.abort("killed");
    await clock.advance(GRACE_MS - 10);
    let ended = false;
    void result.then(() => {
      ended = true;
    });
    await clock.advance(1);
    expect(ended).toBe(false);
    await clock.advance(20);
    expect(await result).toMatchObject({
      outcome: AttemptOutcome.KILLED,
      error: "killed; the plugin did not stop in time",
    });
  });

  it("is abandoned at once when the grace ran out before its plugin started", async () => {
    const attempt = attemptOf(stubborn);
    attempt.abort("killed");
    await clock.advance(GRACE_MS);
    expect(await attempt.run()).toMatchObject({
      error: "killed; the plugin did not stop in time",
    });
  });

  it("ends as its abort says when the plugin then resolves (noop without a wait)", async () => {
    const attempt = attemptOf(noopPlugin(pluginSdk) as Plugin);
    attempt.abort("killed");
    expect(await attempt.run()).toMatchObject({
      outcome: AttemptOutcome.KILLED,
      error: "killed",
    });
  });

  it("times out, and ends with its plugin when the plugin obeys", async () => {
    const attempt = attemptOf(obedient, 2_000);
    const result = attempt.run();
    await clock.whenSleeping(2_000);
    await clock.advance(2_000);
    const ended = await result;
    expect(ended.outcome).toBe(AttemptOutcome.TIMED_OUT);
    expect(ended.error).not.toContain("did not stop in time");
    expect(attempt.abortReason).toBe("timeout");
  });

  it("leaves no timer waiting once it has ended", async () => {
    const attempt = attemptOf(obedient, 60_000);
    const result = attempt.run();
    await clock.whenSleeping(60_000);
    expect(await armed(60_000)).toBe(true);
    attempt.abort("stale");
    const ended = await result;
    expect(ended.outcome).not.toBe(AttemptOutcome.SUCCESS);
    // The timeout and the grace were both cancelled with the attempt.
    expect(await armed(60_000)).toBe(false);
    expect(await armed(GRACE_MS)).toBe(false);
    await clock.advance(120_000);
    expect(attempt.abortReason).toBe("stale");
  });
});

describe("the agent's abort grace", () => {
  it("is 30 s, or the kill grace of DEERFLOW_KILL_GRACE_MS and 5 s more", () => {
    expect(attemptAbortGraceMs({})).toBe(30_000);
    expect(attemptAbortGraceMs({ DEERFLOW_KILL_GRACE_MS: "20000" })).toBe(
      30_000,
    );
    // A retry must not start while the old tree waits for its SIGKILL.
    expect(attemptAbortGraceMs({ DEERFLOW_KILL_GRACE_MS: "60000" })).toBe(
      65_000,
    );
    expect(() =>
      attemptAbortGraceMs({ DEERFLOW_KILL_GRACE_MS: "soon" }),
    ).toThrow(
      'DEERFLOW_KILL_GRACE_MS must be a whole number of milliseconds from 0 to 3600000, got "soon"',
    );
    // Past an hour (a timer past 2^31 ms would fire at once), and what
    // Number() alone would have read as a number.
    for (const raw of ["3000000000", "3600001", " ", "0x10", "1e3", "-1"]) {
      expect(
        () => attemptAbortGraceMs({ DEERFLOW_KILL_GRACE_MS: raw }),
        raw,
      ).toThrow(/DEERFLOW_KILL_GRACE_MS must be a whole number/);
    }
    expect(attemptAbortGraceMs({ DEERFLOW_KILL_GRACE_MS: "3600000" })).toBe(
      3_605_000,
    );
  });
});
