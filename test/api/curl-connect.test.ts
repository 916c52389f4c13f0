import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import { envelope, readEnvelopes } from "./connect-envelope.js";
import { connectJsonPost, curl } from "./curl.js";

const DEFINITION = {
  name: "curl-interop",
  params: { who: "world" },
  tasks: [{ id: "a", type: "shell", command: "echo ${params.who}" }],
};

interface RunJson {
  id: string;
  workflowName: string;
  params: Record<string, unknown>;
  tasks: Array<{ id: string; type: string }>;
}

describe.each(testBackends())(
  "curl and the Connect protocol on $name",
  (backend) => {
    let cp: TestControlPlane;
    let runId: string;
    let scratch: string;
    const method = (name: string) => `${cp.url}/deerflow.v1.RunService/${name}`;

    beforeAll(async () => {
      cp = await startTestControlPlane(backend);
      scratch = await mkdtemp(join(tmpdir(), "deerflow-curl-"));
      // No agent: the run stays queued, which is all GetRun needs.
      const started = await curl(method("StartRun"), [
        "--http1.1",
        ...connectJsonPost({
          definition: { document: DEFINITION },
          params: { who: "curl" },
        }),
      ]);
      expect(started.status, started.body).toBe(200);
      runId = (started.json().run as RunJson).id;
    });

    afterAll(async () => {
      await cp?.close();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it("reads a run with a JSON POST over HTTP/1.1", async () => {
      const res = await curl(method("GetRun"), [
        "--http1.1",
        ...connectJsonPost({ runId }),
      ]);
      expect(res.status, res.body).toBe(200);
      expect(res.httpVersion).toBe("1.1");
      expect(res.contentType).toBe("application/json");
      const run = res.json().run as RunJson;
      expect(run.id).toBe(runId);
      expect(run.workflowName).toBe("curl-interop");
      expect(run.params).toEqual({ who: "curl" });
      expect(run.tasks.map((t) => [t.id, t.type])).toEqual([["a", "shell"]]);
    });

    it("reads a run with a JSON POST over HTTP/2 (prior knowledge)", async () => {
      // Proto field names are accepted as well as their JSON names.
      const res = await curl(method("GetRun"), [
        "--http2-prior-knowledge",
        ...connectJsonPost({ run_id: runId }),
      ]);
      expect(res.status, res.body).toBe(200);
      expect(res.httpVersion).toBe("2");
      expect((res.json().run as RunJson).id).toBe(runId);
    });

    it("reads a run with a Connect GET (GetRun has no side effects)", async () => {
      const query = new URLSearchParams({
        connect: "v1",
        encoding: "json",
        message: JSON.stringify({ runId }),
      });
      const res = await curl(`${method("GetRun")}?${query}`, ["--http1.1"]);
      expect(res.status, res.body).toBe(200);
      expect((res.json().run as RunJson).id).toBe(runId);
    });

    it("refuses a GET of a method with side effects", async () => {
      const query = new URLSearchParams({
        encoding: "json",
        message: JSON.stringify({ definition: { document: DEFINITION } }),
      });
      const res = await curl(`${method("StartRun")}?${query}`);
      expect(res.status).toBe(405);
      const list = await curl(method("ListRuns"), connectJsonPost({}));
      expect((list.json().runs as RunJson[]).map((r) => r.id)).toEqual([runId]);
    });

    it("answers a malformed run id with invalid_argument naming run_id", async () => {
      const res = await curl(method("GetRun"), connectJsonPost({ runId: "x" }));
      expect(res.status).toBe(400);
      expect(res.contentType).toBe("application/json");
      const error = res.json();
      expect(error.code).toBe("invalid_argument");
      expect(error.message).toMatch(/^run_id: /);
    });

    it("answers an unknown run with not_found naming the run", async () => {
      const missing = randomUUID();
      const res = await curl(method("GetRun"), [
        "--http2-prior-knowledge",
        ...connectJsonPost({ runId: missing }),
      ]);
      expect(res.status).toBe(404);
      const error = res.json();
      expect(error.code).toBe("not_found");
      expect(error.message).toContain(missing);
    });

    it("answers an undeclared param with invalid_argument naming it", async () => {
      const res = await curl(
        method("StartRun"),
        connectJsonPost({
          definition: { document: DEFINITION },
          params: { nope: 1 },
        }),
      );
      expect(res.status).toBe(400);
      const error = res.json() as {
        code: string;
        message: string;
        details?: Array<{ type: string; debug?: unknown }>;
      };
      expect(error.code).toBe("invalid_argument");
      expect(error.message).toContain("params.nope");
      // The problems also travel as a typed detail a program can read.
      const detail = error.details?.find(
        (d) => d.type === "deerflow.v1.ValidationProblems",
      );
      expect(detail?.debug).toMatchObject({
        problems: [{ field: "params.nope" }],
      });
    });

    it("refuses an unknown field or enum name in JSON, starting nothing", async () => {
      const before = await curl(method("ListRuns"), connectJsonPost({}));
      const count = (before.json().runs as RunJson[] | undefined)?.length ?? 0;
      const misspelt = await curl(
        method("StartRun"),
        connectJsonPost({ definition: { document: DEFINITION }, veiw: 1 }),
      );
      expect(misspelt.status).toBe(400);
      expect(misspelt.json().code).toBe("invalid_argument");
      expect(misspelt.json().message).toContain("veiw");
      const bogus = await curl(
        method("StartRun"),
        connectJsonPost({
          definition: { document: DEFINITION },
          view: "BOGUS",
        }),
      );
      expect(bogus.status).toBe(400);
      expect(bogus.json().message).toContain("RunView");
      const after = await curl(method("ListRuns"), connectJsonPost({}));
      expect((after.json().runs as RunJson[] | undefined)?.length ?? 0).toBe(
        count,
      );
      const basic = await curl(
        method("StartRun"),
        connectJsonPost({
          definition: { document: DEFINITION },
          view: "RUN_VIEW_BASIC",
        }),
      );
      expect(basic.status).toBe(200);
      const { run } = basic.json() as { run: { id: string; tasks?: unknown } };
      expect(run.id).toBeTruthy();
      expect(run.tasks).toBeUndefined();
    });

    it("answers a lone surrogate in a param with invalid_argument naming it", async () => {
      const res = await curl(
        method("StartRun"),
        connectJsonPost({
          definition: { document: DEFINITION },
          params: { nope: "\ud800" },
        }),
      );
      expect(res.status).toBe(400);
      expect(res.json().message).toMatch(
        /^params\.nope: holds a lone UTF-16 surrogate/,
      );
    });

    it("answers params that are not an object with invalid_argument", async () => {
      const res = await curl(
        method("StartRun"),
        connectJsonPost({ definition: { document: DEFINITION }, params: 5 }),
      );
      expect(res.status).toBe(400);
      expect(res.json().code).toBe("invalid_argument");
      // connect-es decodes the body before our code runs, and its message
      // names the type, not the field (README, known limitations).
      expect(res.json().message).toContain("google.protobuf.Struct");
    });

    it("answers a body that is not JSON with invalid_argument", async () => {
      const res = await curl(method("GetRun"), [
        "--header",
        "Content-Type: application/json",
        "--data-binary",
        '{"runId":',
      ]);
      expect(res.status).toBe(400);
      expect(res.json().code).toBe("invalid_argument");
    });

    it("streams a watch as Connect envelopes over HTTP/1.1", async () => {
      // A second run, cancelled, so that its watch has an end.
      const started = await curl(
        method("StartRun"),
        connectJsonPost({ definition: { document: DEFINITION } }),
      );
      const watched = (started.json().run as RunJson).id;
      const cancel = await curl(
        method("CancelRun"),
        connectJsonPost({ runId: watched, reason: "curl test" }),
      );
      expect(cancel.status, cancel.body).toBe(200);
      const request = join(scratch, "watch.bin");
      await writeFile(request, envelope({ runId: watched }));
      const res = await curl(method("WatchRun"), [
        "--http1.1",
        "--header",
        "Content-Type: application/connect+json",
        "--data-binary",
        `@${request}`,
      ]);
      expect(res.status).toBe(200);
      expect(res.contentType).toBe("application/connect+json");
      const stream = readEnvelopes(res.bytes);
      const events = stream.messages as Array<{
        event: { runStateChanged?: { state: string } };
      }>;
      expect(events.at(-1)?.event.runStateChanged?.state).toBe(
        "RUN_STATE_CANCELLED",
      );
      expect(stream.end).toEqual({});
    });

    it("ends a watch whose deadline passes with deadline_exceeded", async () => {
      // The first run stays queued (no agent), so only the deadline can
      // end this watch; it must not end as if the run had ended.
      const request = join(scratch, "watch-open.bin");
      await writeFile(request, envelope({ runId }));
      const res = await curl(method("WatchRun"), [
        "--header",
        "Content-Type: application/connect+json",
        "--header",
        "Connect-Timeout-Ms: 300",
        "--data-binary",
        `@${request}`,
      ]);
      expect(res.status).toBe(200);
      const stream = readEnvelopes(res.bytes);
      expect(stream.messages.length).toBeGreaterThan(0);
      expect(stream.end).toMatchObject({
        error: { code: "deadline_exceeded" },
      });
    });
  },
);
