import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { LeaseRefSchema, ResultSchema } from "../gen/deerflow/v1/agent_pb.js";
import { AttemptOutcome } from "../gen/deerflow/v1/run_pb.js";
import type { SettledFields } from "./attempt-result.js";
import { resultMessage, timestampOf } from "./result-message.js";

const lease = create(LeaseRefSchema, { leaseId: "l", fencingToken: 9n });

describe("resultMessage", () => {
  const endings: SettledFields[] = [
    { outcome: AttemptOutcome.SUCCESS, exitCode: 0 },
    { outcome: AttemptOutcome.SUCCESS, exitCode: undefined },
    { outcome: AttemptOutcome.SUCCESS },
    {
      outcome: AttemptOutcome.FAILED,
      exitCode: -1,
      error: "boom",
      retryable: true,
      retryClass: "429",
      retryAfterMs: 1500,
    },
    { outcome: AttemptOutcome.FAILED, retryAfterMs: undefined },
    { outcome: AttemptOutcome.KILLED, retryable: false, retryClass: "" },
  ];

  it("is the message create() makes of the same fields", () => {
    for (const ended of endings) {
      const outputs: JsonObject[] = [{}, { rows: 2, list: ["a", null] }];
      for (const output of outputs) {
        const parts = {
          lease,
          output,
          startedAtMs: 1_700_000_000_123,
          finishedAtMs: 1_700_000_000_999,
          error: ended.error ?? "",
        };
        expect(resultMessage(ended, parts)).toStrictEqual(
          create(ResultSchema, {
            lease,
            output,
            startedAt: timestampFromMs(parts.startedAtMs),
            finishedAt: timestampFromMs(parts.finishedAtMs),
            ...ended,
            error: parts.error,
          }),
        );
      }
    }
  });

  it("makes times as timestampFromMs does", () => {
    for (const ms of [
      0, 1, 999, 1000, 1_700_000_000_123, 253_402_300_799_999,
    ]) {
      expect(timestampOf(ms)).toStrictEqual(timestampFromMs(ms));
    }
  });
});
