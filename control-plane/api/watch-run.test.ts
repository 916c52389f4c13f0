import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../core/index.js";
import {
  TaskState,
  type WatchRunResponse,
} from "../../gen/deerflow/v1/run_pb.js";
import { testBackends } from "../../test/support/test-database.js";
import { appendRunEvents } from "../events/append-run-events.js";
import { RunEventHub } from "../events/run-event-hub.js";
import {
  openTransaction,
  start,
  task,
  useTestDatabase,
  workflow,
} from "../test-support.js";
import { watchRun } from "./watch-run.js";

/**
 * Reads a watch one event at a time, as "task:STATE" (or "run"), with
 * "nothing" when none comes within a while. A read that timed out stays
 * pending and answers the next call, so no event is lost.
 */
function reader(watch: AsyncIterator<WatchRunResponse>) {
  let pending: Promise<string> | undefined;
  return async (ms: number): Promise<string> => {
    pending ??= watch.next().then((r) => {
      const kind = r.done ? undefined : r.value.event?.kind;
      if (kind?.case === "taskStateChanged") {
        return `${kind.value.taskId}:${TaskState[kind.value.state]}`;
      }
      return kind?.case === "runStateChanged" ? "run" : "done";
    });
    let timer: NodeJS.Timeout | undefined;
    const nothing = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve("nothing"), ms);
    });
    const next = await Promise.race([pending, nothing]);
    clearTimeout(timer);
    if (next !== "nothing") pending = undefined;
    return next;
  };
}

describe.each(testBackends().filter((b) => b.name === "postgres"))(
  "watchRun on $name",
  (backend) => {
    const t = useTestDatabase(backend);

    /** A watch of the run from its start, with its hub and its call's cut. */
    function watchFromStart(runId: string) {
      const hub = new RunEventHub(t.database, silentLogger());
      const controller = new AbortController();
      const stream = watchRun({ db: t.db, hub }, runId, 0, {
        signal: controller.signal,
      } as HandlerContext)[Symbol.asyncIterator]();
      return { hub, controller, stream, next: reader(stream) };
    }

    it("ends at once when the run had ended and is watched from past its last event", async () => {
      const { runId } = await start(t.db, workflow(task("a")));
      await appendRunEvents(t.db, [{ runId, state: "CANCELLED" }]);
      await t.db.execute(
        sql`UPDATE runs SET state = 'CANCELLED' WHERE id = ${runId}`,
      );
      const hub = new RunEventHub(t.database, silentLogger());
      const all: WatchRunResponse[] = [];
      for await (const response of watchRun({ db: t.db, hub }, runId, 0, {
        signal: new AbortController().signal,
      } as HandlerContext)) {
        all.push(response);
      }
      const last = Number(all.at(-1)?.event?.sequence ?? 0);
      expect(last).toBeGreaterThan(0);
      const after: WatchRunResponse[] = [];
      for await (const response of watchRun({ db: t.db, hub }, runId, last, {
        signal: AbortSignal.timeout(10_000),
      } as HandlerContext)) {
        after.push(response);
      }
      expect(after).toEqual([]);
    });

    it("ends when the run ends, though watched from past its last event", async () => {
      const { runId } = await start(t.db, workflow(task("a")));
      const hub = new RunEventHub(t.database, silentLogger());
      await hub.start();
      try {
        const controller = new AbortController();
        const stream = watchRun(
          { db: t.db, hub },
          runId,
          Number.MAX_SAFE_INTEGER,
          { signal: controller.signal } as HandlerContext,
        )[Symbol.asyncIterator]();
        const next = reader(stream);
        expect(await next(300)).toBe("nothing");
        // The run ends; its events are numbered below where the watch is.
        await appendRunEvents(t.db, [{ runId, state: "CANCELLED" }]);
        await t.db.execute(
          sql`UPDATE runs SET state = 'CANCELLED' WHERE id = ${runId}`,
        );
        await appendRunEvents(t.db, [{ runId, taskId: "a", state: "NOTE" }]);
        expect(await next(10_000)).toBe("done");
        controller.abort();
      } finally {
        await hub.stop();
      }
    });

    it("yields an event that committed after a later-numbered one, in order", async () => {
      const { runId } = await start(t.db, workflow(task("a"), task("b")));
      const { hub, controller, stream, next } = watchFromStart(runId);
      try {
        // The start's own events.
        const seen: string[] = [];
        for (;;) {
          const event = await next(300);
          if (event === "nothing") break;
          seen.push(event);
        }
        expect(seen).toContain("a:QUEUED");
        // A claim takes its event's number first and commits last, while
        // a settle of the same run numbers and commits its own between.
        const claim = await openTransaction(await t.openAnother(), (tx) =>
          appendRunEvents(tx, [
            { runId, taskId: "a", state: "ASSIGNED", attempt: 1 },
          ]),
        );
        await appendRunEvents(t.db, [
          { runId, taskId: "b", state: "ASSIGNED", attempt: 1 },
        ]);
        hub.notify(runId);
        const whileOpen = await next(500);
        await claim.end();
        hub.notify(runId);
        const after = [whileOpen];
        for (;;) {
          const event = await next(3000);
          if (event === "nothing") break;
          after.push(event);
        }
        expect(after.filter((e) => e !== "nothing")).toEqual([
          "a:ASSIGNED",
          "b:ASSIGNED",
        ]);
      } finally {
        controller.abort();
        await stream.return?.();
      }
    });

    it("ends as cut short when its call is, while it waits for an open writer", async () => {
      const { runId } = await start(t.db, workflow(task("a")));
      const writer = await openTransaction(await t.openAnother(), (tx) =>
        appendRunEvents(tx, [{ runId, taskId: "a", state: "ASSIGNED" }]),
      );
      try {
        const { controller, stream } = watchFromStart(runId);
        const first = stream.next();
        await new Promise((resolve) => setTimeout(resolve, 200));
        controller.abort(new Error("the caller left"));
        const error = await first.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(ConnectError.from(error).code).toBe(Code.Unavailable);
      } finally {
        await writer.end();
      }
    });
    it("ends as Unavailable, not Internal, when the caller resets its stream", async () => {
      const { runId } = await start(t.db, workflow(task("a")));
      const { controller, next } = watchFromStart(runId);
      // The start's events, then a wait for more.
      while ((await next(300)) !== "nothing") {}
      controller.abort(
        new ConnectError(
          "http/2 stream closed with error code INTERNAL_ERROR",
          Code.Internal,
        ),
      );
      const error = await next(3000).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(ConnectError.from(error).code).toBe(Code.Unavailable);
    });
  },
);
