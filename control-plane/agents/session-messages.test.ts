import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  AssignmentSchema,
  LeaseRefSchema,
  ResultSchema,
} from "../../gen/deerflow/v1/agent_pb.js";
import {
  AttemptOutcome,
  LogLineSchema,
  MetricPointSchema,
} from "../../gen/deerflow/v1/run_pb.js";
import type { ClaimedAssignment } from "../dispatch/claim-tasks.js";
import {
  assignmentMessage,
  leaseRef,
  toAssignment,
  toAttemptResult,
  toLogLines,
  toMetricPoints,
} from "./session-messages.js";

const ref = { leaseId: "lease-1", fencingToken: 1 };
const now = new Date(0);

describe("agent messages that hold a NUL, which PostgreSQL cannot store", () => {
  it("keep a success whose output holds one, with U+FFFD in its place", () => {
    const result = toAttemptResult(
      create(ResultSchema, {
        outcome: AttemptOutcome.SUCCESS,
        output: { a: { b: ["ok", "x\u0000y"] } },
        exitCode: 0,
      }),
      ref,
    );
    expect(result).toMatchObject({
      outcome: "SUCCESS",
      output: { a: { b: ["ok", "x\uFFFDy"] } },
    });
  });

  it("keep error text, log lines and metric labels, with each one replaced", () => {
    const failed = toAttemptResult(
      create(ResultSchema, {
        outcome: AttemptOutcome.FAILED,
        error: "a\u0000",
      }),
      ref,
    );
    expect(failed?.error).toBe("a\uFFFD");
    const [line] = toLogLines(
      [
        create(LogLineSchema, {
          sequence: 1n,
          message: "bin\u0000ary",
          fields: { "k\u0000": "v\u0000" },
        }),
      ],
      now,
    );
    expect(line).toMatchObject({
      message: "bin\uFFFDary",
      fields: { "k\uFFFD": "v\uFFFD" },
    });
    const [point] = toMetricPoints(
      [create(MetricPointSchema, { name: "m\u0000", labels: { l: "\u0000" } })],
      now,
    );
    expect(point).toMatchObject({ name: "m\uFFFD", labels: { l: "\uFFFD" } });
  });
});

describe("agent times and sequences no column could hold", () => {
  const received = new Date("2026-12-05T10:00:00Z");

  it("keep the line or point, at the time it was received", () => {
    const sent = { seconds: 1_700_000_000n, nanos: 0 };
    const lines = toLogLines(
      [
        create(LogLineSchema, { sequence: 1n, time: sent }),
        create(LogLineSchema, { sequence: 2n, time: { seconds: 10n ** 14n } }),
        create(LogLineSchema, { sequence: 3n, time: { seconds: -1n } }),
        create(LogLineSchema, { sequence: 4n }),
      ],
      received,
    );
    expect(lines.map((l) => l.time)).toEqual([
      new Date(1_700_000_000_000),
      received,
      received,
      received,
    ]);
    const [point] = toMetricPoints(
      [create(MetricPointSchema, { name: "m", time: { seconds: 10n ** 14n } })],
      received,
    );
    expect(point?.time).toEqual(received);
    const result = toAttemptResult(
      create(ResultSchema, {
        outcome: AttemptOutcome.SUCCESS,
        startedAt: { seconds: 8n * 10n ** 12n },
      }),
      ref,
      received,
    );
    expect(result?.startedAt).toEqual(received);
  });

  it("refuse a log line's sequence beyond 2^53 - 1, naming it", () => {
    expect(() =>
      toLogLines(
        [
          create(LogLineSchema, { sequence: 1n }),
          create(LogLineSchema, { sequence: 2n ** 63n - 1n }),
        ],
        received,
      ),
    ).toThrow(
      "log_chunk.lines[1].sequence: must be from 1 to 9007199254740991, not 9223372036854775807",
    );
  });

  it("refuse a log line numbered 0, which no reader would page to", () => {
    expect(() =>
      toLogLines([create(LogLineSchema, { sequence: 0n })], received),
    ).toThrow(
      "log_chunk.lines[0].sequence: is required: number each attempt's lines from 1",
    );
  });
});

describe("assignmentMessage", () => {
  const claimed: ClaimedAssignment = {
    leaseId: "lease-1",
    fencingToken: 2 ** 40,
    runId: "run-1",
    taskId: "task-1",
    attempt: 2,
    type: "noop",
    config: { sleep_ms: 5, nested: { list: [1, "ü", null] } },
    context: { params: {} },
    env: { A: "1", "": "" },
    timeoutMs: 0,
    onAgentDisconnect: "kill",
    leaseTtlMs: 30_000,
  };
  const variants: ClaimedAssignment[] = [
    claimed,
    { ...claimed, secrets: { TOKEN: "s" }, env: {} },
    {
      ...claimed,
      resources: {
        cpu_millis: 500,
        memory_bytes: 2 ** 33,
        gpus: [{ index: 0, type: "a100", memory_bytes: 1 }],
        storage_bytes: 0,
      },
    } as ClaimedAssignment,
  ];

  it("is the message create() makes, with Structs or with JSON", () => {
    for (const a of variants) {
      for (const json of [false, true]) {
        expect(assignmentMessage(a, 10_000, json)).toStrictEqual(
          create(AssignmentSchema, toAssignment(a, 10_000, json)),
        );
      }
    }
  });

  it("names its lease as create() would", () => {
    expect(leaseRef({ leaseId: "l", fencingToken: 3 })).toStrictEqual(
      create(LeaseRefSchema, { leaseId: "l", fencingToken: 3n }),
    );
  });
});
