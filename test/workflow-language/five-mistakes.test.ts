import { ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationProblemsSchema } from "../../gen/deerflow/v1/common_pb.js";
import { startInline } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

describe.each(testBackends())(
  "a definition with five mistakes on $name",
  (backend) => {
    let cp: TestControlPlane;
    beforeAll(async () => {
      cp = await startTestControlPlane(backend);
    });
    afterAll(async () => {
      await cp.close();
    });

    it("gets five messages at submit, each naming its task and field", async () => {
      const error = await startInline(cp.clients, {
        name: "five-mistakes",
        params: { date: "2026-12-01" },
        tasks: [
          // 1. a template reading a param that is not declared
          {
            id: "extract",
            type: "shell",
            command: "extract --day ${params.day}",
          },
          // 2. a condition that is not boolean
          {
            id: "load",
            type: "shell",
            depends_on: ["extract"],
            command: "load",
            condition: "tasks.extract.output.rows + 1",
          },
          // 3. a template reading a task that is not upstream
          {
            id: "report",
            type: "shell",
            command: "echo ${tasks.load.output.rows}",
          },
          // 4. a config that breaks its type's schema
          {
            id: "fetch",
            type: "http",
            url: "http://127.0.0.1:9/x",
            method: "FETCH",
          },
          // 5. a dependency on a task that does not exist
          { id: "notify", type: "noop", depends_on: ["ghost"] },
        ],
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      const [details] = (error as ConnectError).findDetails(
        ValidationProblemsSchema,
      );
      const problems = (details?.problems ?? []).map(
        (p) => `${p.taskId} ${p.field}`,
      );
      expect(problems).toEqual(
        expect.arrayContaining([
          "extract config.command",
          "load condition",
          "report config.command",
          "fetch config.method",
          "notify depends_on[0]",
        ]),
      );
      expect(problems).toHaveLength(5);
    });
  },
);
