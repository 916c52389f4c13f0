import { describe, expect, it } from "vitest";
import { Alarm } from "./alarm.js";

const FOREVER_MS = 2 ** 31 - 1;

describe("Alarm", () => {
  it("a wake ends the current sleep", async () => {
    const alarm = new Alarm();
    const sleeping = alarm.sleep(FOREVER_MS, new AbortController().signal);
    alarm.wake();
    await sleeping;
  });

  it("a wake with nobody asleep ends the next sleep at once, once", async () => {
    const alarm = new Alarm();
    alarm.wake();
    await alarm.sleep(FOREVER_MS, new AbortController().signal);
    const controller = new AbortController();
    let ended = false;
    const next = alarm.sleep(FOREVER_MS, controller.signal).then(() => {
      ended = true;
    });
    await Promise.resolve();
    expect(ended).toBe(false);
    controller.abort();
    await next;
    expect(ended).toBe(true);
  });

  it("an aborted signal ends the sleep", async () => {
    const controller = new AbortController();
    controller.abort();
    await new Alarm().sleep(FOREVER_MS, controller.signal);
  });
});
