import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ResultSchema } from "../../gen/deerflow/v1/agent_pb.js";
import {
  AttemptOutcome,
  LogLineSchema,
  MetricPointSchema,
} from "../../gen/deerflow/v1/run_pb.js";
import {
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
