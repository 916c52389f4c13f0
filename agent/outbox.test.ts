import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ResultSchema } from "../gen/deerflow/v1/agent_pb.js";
import { Outbox } from "./outbox.js";

const result = (leaseId: string) =>
  create(ResultSchema, { lease: { leaseId, fencingToken: 1n } });

describe("Outbox", () => {
  it("keeps results until their lease is acknowledged", async () => {
    const outbox = new Outbox();
    outbox.add(result("a"));
    outbox.add(result("b"));
    expect(outbox.pending().map((r) => r.lease?.leaseId)).toEqual(["a", "b"]);
    const empty = outbox.whenEmpty();
    expect(outbox.remove("a")).toBe(true);
    expect(outbox.remove("a")).toBe(false);
    expect(outbox.has("b")).toBe(true);
    outbox.remove("b");
    await empty;
    expect(outbox.size).toBe(0);
  });

  it("refuses a result without a lease", () => {
    expect(() => new Outbox().add(create(ResultSchema, {}))).toThrow(
      /result\.lease/,
    );
  });
});
