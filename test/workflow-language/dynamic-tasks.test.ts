import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectError } from "@connectrpc/connect";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runs } from "../../control-plane/db/index.js";
import { MAX_MADE_TASKS } from "../../control-plane/scheduler/made-tasks.js";
import {
  RunState,
  type Task,
  TaskState,
} from "../../gen/deerflow/v1/run_pb.js";
import {
  spawnAgent,
  stopAllAgents,
  waitForAgents,
} from "../support/agent-process.js";
import { runEventsOf, startInline, waitForRun } from "../support/runs.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";

/** A shell command that records its JSON output for the task. */
function emit(json: string): string {
  return `printf '%s' '${json}' > "$DEERFLOW_OUTPUT"`;
}

function task(run: { tasks: Task[] }, id: string): Task {
  const found = run.tasks.find((t) => t.id === id);
  if (found === undefined) throw new Error(`no task ${id} in the run`);
  return found;
}

function endedAt(t: Task): number {
  return (
    Number(t.finishedAt?.seconds ?? 0n) * 1000 +
    (t.finishedAt?.nanos ?? 0) / 1e6
  );
}

function startedAt(t: Task): number {
  const at = t.attempts[0]?.startedAt;
  return Number(at?.seconds ?? 0n) * 1000 + (at?.nanos ?? 0) / 1e6;
}

describe.each(testBackends())(
  "for_each and dynamic tasks on $name",
  (backend) => {
    let cp: TestControlPlane;
    let scratch: string;
    beforeAll(async () => {
      cp = await startTestControlPlane(backend);
      scratch = await mkdtemp(join(tmpdir(), "deerflow-dynamic-"));
      await spawnAgent({ serverUrl: cp.url, name: "worker", slots: 4 });
      await waitForAgents(cp.clients, ["worker"]);
    });
    afterAll(async () => {
      await stopAllAgents();
      await cp.close();
      await rm(scratch, { recursive: true, force: true });
    });

    it("expands for_each over an upstream output; the dependent waits for every child", async () => {
      const runId = await startInline(cp.clients, {
        name: "fan-out",
        tasks: [
          {
            id: "list",
            type: "shell",
            command: emit('{"files":["a.csv","b b.csv","c;rm -rf x.csv"]}'),
          },
          {
            id: "process",
            type: "shell",
            depends_on: ["list"],
            for_each: "${tasks.list.output.files}",
            // Each value is quoted for the shell: a hostile name stays one.
            command:
              "sleep 0.2; printf 'name=%s\\nat=%s\\n' ${item} ${index} > \"$DEERFLOW_OUTPUT\"",
          },
          {
            id: "join",
            type: "shell",
            depends_on: ["process"],
            command:
              "echo ${tasks.process.output.outputs.size()} ${tasks.process.output.outputs[2].name}",
          },
        ],
      });
      const run = await waitForRun(cp.clients, runId);
      expect(run.state).toBe(RunState.SUCCESS);
      const children = ["process[0]", "process[1]", "process[2]"].map((id) =>
        task(run, id),
      );
      for (const child of children) expect(child.state).toBe(TaskState.SUCCESS);
      expect(children.map((c) => c.output?.name)).toEqual([
        "a.csv",
        "b b.csv",
        "c;rm -rf x.csv",
      ]);
      expect(children.map((c) => String(c.output?.at))).toEqual([
        "0",
        "1",
        "2",
      ]);
      const group = task(run, "process");
      expect(group.state).toBe(TaskState.SUCCESS);
      expect(group.output?.outputs).toHaveLength(3);
      const join = task(run, "join");
      expect(join.state).toBe(TaskState.SUCCESS);
      expect(join.output?.stdout).toContain("3 c;rm -rf x.csv");
      for (const child of children) {
        expect(startedAt(join)).toBeGreaterThanOrEqual(endedAt(child));
      }
    });

    it("expands for_each over a param, and an empty list succeeds at once", async () => {
      const definition = {
        name: "over-params",
        params: { regions: ["eu", "us"] },
        tasks: [
          {
            id: "each",
            type: "shell",
            for_each: "${params.regions}",
            command: "echo region ${item}",
          },
          {
            id: "after",
            type: "shell",
            depends_on: ["each"],
            command: "echo done",
          },
        ],
      };
      const full = await waitForRun(
        cp.clients,
        await startInline(cp.clients, definition),
      );
      expect(full.state).toBe(RunState.SUCCESS);
      expect(task(full, "each[1]").output?.stdout).toContain("region us");
      const empty = await waitForRun(
        cp.clients,
        await startInline(cp.clients, definition, { regions: [] }),
      );
      expect(empty.state).toBe(RunState.SUCCESS);
      expect(task(empty, "each").output?.outputs).toEqual([]);
      expect(task(empty, "after").state).toBe(TaskState.SUCCESS);
    });

    it("lists a group's children after it, in index order (each[2] before each[10])", async () => {
      const run = await waitForRun(
        cp.clients,
        await startInline(cp.clients, {
          name: "ordered",
          params: { items: Array.from({ length: 12 }, (_, i) => i) },
          tasks: [
            { id: "first", type: "shell", command: "true" },
            {
              id: "each",
              type: "shell",
              for_each: "${params.items}",
              command: "true",
            },
            { id: "last", type: "shell", command: "true" },
          ],
        }),
      );
      expect(run.state).toBe(RunState.SUCCESS);
      expect(run.tasks.map((t) => t.id)).toEqual([
        "first",
        "each",
        ...Array.from({ length: 12 }, (_, i) => `each[${i}]`),
        "last",
      ]);
    });

    it("fails a for_each that is not a list or exceeds the limit, naming for_each", async () => {
      const run = await waitForRun(
        cp.clients,
        await startInline(cp.clients, {
          name: "not-a-list",
          tasks: [
            {
              id: "many",
              type: "shell",
              for_each: "${'not a list'}",
              command: "true",
            },
          ],
        }),
      );
      expect(task(run, "many").state).toBe(TaskState.FAILED);
      expect(task(run, "many").error).toBe(
        "for_each: must give a list, not string",
      );
      const cap = await waitForRun(
        cp.clients,
        await startInline(cp.clients, {
          name: "over-the-cap",
          params: { items: Array.from({ length: 10_001 }, (_, i) => i) },
          tasks: [
            {
              id: "each",
              type: "shell",
              for_each: "${params.items}",
              command: "true",
            },
          ],
        }),
      );
      expect(task(cap, "each").state).toBe(TaskState.FAILED);
      expect(task(cap, "each").error).toBe(
        "for_each: 10001 items exceed the limit of 10000",
      );
    });

    it("a failed child fails its group and its dependents; retrying the run reruns only that child", async () => {
      const marker = join(scratch, "second-try");
      const runId = await startInline(cp.clients, {
        name: "flaky-child",
        params: { marker },
        tasks: [
          {
            id: "each",
            type: "shell",
            for_each: "${[1, 2, 3]}",
            command:
              "if [ ${item} = 2 ] && [ ! -e ${params.marker} ]; then touch ${params.marker}; exit 4; fi; echo ok ${item}",
          },
          {
            id: "after",
            type: "shell",
            depends_on: ["each"],
            command: "echo after",
          },
        ],
      });
      const failed = await waitForRun(cp.clients, runId);
      expect(failed.state).toBe(RunState.FAILED);
      expect(task(failed, "each").error).toBe(
        "children did not succeed: each[1]",
      );
      expect(task(failed, "after").state).toBe(TaskState.UPSTREAM_FAILED);
      // The group's error names its children; the run's, the group.
      expect(failed.error).toBe("tasks did not succeed: each, after");
      await cp.clients.runs.retryRun({ runId });
      const retried = await waitForRun(cp.clients, runId);
      expect(retried.state).toBe(RunState.SUCCESS);
      expect(task(retried, "each[0]").attempts).toHaveLength(1);
      expect(task(retried, "each[1]").attempts).toHaveLength(2);
      expect(task(retried, "after").state).toBe(TaskState.SUCCESS);
    });

    it("splices the tasks a dynamic task outputs; its dependents wait for them", async () => {
      const generated = JSON.stringify({
        tasks: [
          { id: "a", type: "shell", command: "sleep 0.2; echo from-a" },
          {
            id: "b",
            type: "shell",
            depends_on: ["a"],
            command: "echo b read $${tasks.a.exit_code} and $${params.who}",
          },
        ],
      });
      const runId = await startInline(cp.clients, {
        name: "generator",
        params: { who: "everyone" },
        tasks: [
          {
            id: "plan",
            type: "shell",
            dynamic: true,
            command: emit(generated),
          },
          {
            id: "report",
            type: "shell",
            depends_on: ["plan"],
            command: "echo report",
          },
        ],
      });
      const run = await waitForRun(cp.clients, runId);
      expect(run.state).toBe(RunState.SUCCESS);
      const b = task(run, "plan/b");
      expect(b.state).toBe(TaskState.SUCCESS);
      expect(b.output?.stdout).toContain("b read 0 and everyone");
      expect(startedAt(b)).toBeGreaterThanOrEqual(endedAt(task(run, "plan/a")));
      const report = task(run, "report");
      expect(startedAt(report)).toBeGreaterThanOrEqual(endedAt(b));
      expect(task(run, "plan").output?.tasks).toHaveLength(2);
      // The plan's history: RUNNING once, though its group ran after its
      // attempt ended.
      const plan = (await runEventsOf(cp.clients, runId))
        .filter((e) => e.taskId === "plan")
        .map((e) => TaskState[e.state]);
      expect(plan).toEqual(["QUEUED", "ASSIGNED", "RUNNING", "SUCCESS"]);
    });

    it("expands a generated for_each and skips a generated task whose condition is false", async () => {
      const generated = JSON.stringify({
        tasks: [
          {
            id: "fe",
            type: "noop",
            for_each: [1, 2],
            output: { x: "$${item}" },
          },
          { id: "cond", type: "noop", condition: "1 == 2" },
          { id: "ok", type: "noop" },
        ],
      });
      const runId = await startInline(cp.clients, {
        name: "generated-groups",
        tasks: [
          {
            id: "plan",
            type: "shell",
            dynamic: true,
            command: emit(generated),
          },
          { id: "after", type: "noop", depends_on: ["plan"] },
        ],
      });
      const run = await waitForRun(cp.clients, runId);
      expect(run.state).toBe(RunState.SUCCESS);
      expect(task(run, "plan/fe").state).toBe(TaskState.SUCCESS);
      expect(
        ["plan/fe[0]", "plan/fe[1]"].map((id) => task(run, id).output?.x),
      ).toEqual([1, 2]);
      expect(task(run, "plan/cond").state).toBe(TaskState.SKIPPED);
      expect(task(run, "plan/ok").state).toBe(TaskState.SUCCESS);
      expect(task(run, "after").state).toBe(TaskState.SUCCESS);
    });

    it("lists generated tasks after their generator, in the order it made them", async () => {
      const runId = await startInline(cp.clients, {
        name: "generated-order",
        tasks: [
          {
            id: "plan",
            type: "noop",
            dynamic: true,
            output: {
              tasks: [
                { id: "zeta", type: "noop" },
                { id: "fe", type: "noop", for_each: [1, 2] },
                { id: "alpha", type: "noop" },
                {
                  id: "inner",
                  type: "noop",
                  dynamic: true,
                  output: {
                    tasks: [
                      { id: "b", type: "noop" },
                      { id: "a", type: "noop" },
                    ],
                  },
                },
              ],
            },
          },
          { id: "after", type: "noop", depends_on: ["plan"] },
        ],
      });
      const run = await waitForRun(cp.clients, runId);
      expect(run.state).toBe(RunState.SUCCESS);
      expect(run.tasks.map((t) => t.id)).toEqual([
        "plan",
        "plan/zeta",
        "plan/fe",
        "plan/fe[0]",
        "plan/fe[1]",
        "plan/alpha",
        "plan/inner",
        "plan/inner/b",
        "plan/inner/a",
        "after",
      ]);
    });

    it("takes a python generator's returned tasks, and succeeds with nothing to generate", async () => {
      const runId = await startInline(cp.clients, {
        name: "python-generator",
        tasks: [
          {
            id: "plan",
            type: "python",
            dynamic: true,
            code: "def plan(n):\n    return {'tasks': [{'id': f'step{i}', 'type': 'noop'} for i in range(n)]}\n",
            function: "plan",
            args: [3],
          },
          {
            id: "none",
            type: "shell",
            dynamic: true,
            command: emit('{"tasks":[]}'),
          },
          { id: "after", type: "noop", depends_on: ["plan", "none"] },
        ],
      });
      const run = await waitForRun(cp.clients, runId);
      expect(run.state).toBe(RunState.SUCCESS);
      for (const id of ["plan/step0", "plan/step1", "plan/step2"]) {
        expect(task(run, id).state).toBe(TaskState.SUCCESS);
      }
      expect(task(run, "none").state).toBe(TaskState.SUCCESS);
      expect(task(run, "after").state).toBe(TaskState.SUCCESS);
    });

    it("fails a generator or a for_each that would pass the run's bound on made tasks", async () => {
      const gate = join(scratch, "made-tasks-gate");
      const runId = await startInline(cp.clients, {
        name: "made-tasks",
        tasks: [
          {
            id: "wait",
            type: "shell",
            command: `while [ ! -e ${gate} ]; do sleep 0.05; done`,
          },
          {
            id: "plan",
            type: "shell",
            dynamic: true,
            depends_on: ["wait"],
            command: emit(
              JSON.stringify({
                tasks: [
                  { id: "x", type: "shell", command: "true" },
                  { id: "y", type: "shell", command: "true" },
                ],
              }),
            ),
          },
          {
            id: "fe",
            type: "shell",
            depends_on: ["wait"],
            for_each: "${[1, 2, 3]}",
            command: "true",
          },
        ],
      });
      // As if the run had made all but one of its tasks already.
      await cp.controlPlane.database.db
        .update(runs)
        .set({ madeTasks: MAX_MADE_TASKS - 1 })
        .where(eq(runs.id, runId));
      await writeFile(gate, "");
      const run = await waitForRun(cp.clients, runId);
      expect(run.state).toBe(RunState.FAILED);
      const bound = `the run would make more than ${MAX_MADE_TASKS} tasks while it runs`;
      expect(task(run, "plan")).toMatchObject({ state: TaskState.FAILED });
      expect(task(run, "plan").error).toContain(`dynamic: ${bound}`);
      expect(task(run, "fe")).toMatchObject({ state: TaskState.FAILED });
      expect(task(run, "fe").error).toContain(`for_each: ${bound}`);
      expect(run.tasks.map((t) => t.id).sort()).toEqual(["fe", "plan", "wait"]);
    });

    it("fails a dynamic task whose output is not valid tasks, naming task and field", async () => {
      const bad = JSON.stringify({
        tasks: [
          { id: "x", type: "shell" },
          { id: "y", type: "nope", depends_on: ["ghost"] },
        ],
      });
      const run = await waitForRun(
        cp.clients,
        await startInline(cp.clients, {
          name: "bad-generator",
          tasks: [
            { id: "plan", type: "shell", dynamic: true, command: emit(bad) },
          ],
        }),
      );
      const plan = task(run, "plan");
      expect(plan.state).toBe(TaskState.FAILED);
      expect(plan.error).toContain(
        "output.tasks x: config.command: is required",
      );
      expect(plan.error).toContain("output.tasks y: type:");
      expect(plan.error).toContain(
        'output.tasks y: depends_on[0]: unknown task "ghost"',
      );
    });

    it("refuses at submit item outside for_each, and for_each with dynamic", async () => {
      const error = await startInline(cp.clients, {
        name: "misuse",
        tasks: [
          { id: "a", type: "shell", command: "echo ${item}" },
          {
            id: "b",
            type: "shell",
            for_each: "[1, 2]",
            dynamic: true,
            command: "echo ${index}",
          },
        ],
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      const message = (error as ConnectError).rawMessage;
      expect(message).toContain(
        '"item" is defined only in a task with for_each',
      );
      expect(message).toContain("must be a list, or exactly one");
      expect(message).toContain("a task cannot have both for_each and dynamic");
    });
  },
);
