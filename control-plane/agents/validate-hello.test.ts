import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { HelloSchema } from "../../gen/deerflow/v1/agent_pb.js";
import { validateHello } from "./validate-hello.js";

function hello(fields: Parameters<typeof create<typeof HelloSchema>>[1]) {
  return create(HelloSchema, {
    name: "gpu-1",
    version: "1.0.0",
    slots: 2,
    taskTypes: [{ type: "shell" }],
    ...fields,
  });
}

function refusal(fields: Parameters<typeof hello>[0]): ConnectError {
  try {
    validateHello(hello(fields));
  } catch (error) {
    if (error instanceof ConnectError) return error;
    throw error;
  }
  throw new Error("the hello was accepted");
}

describe("validateHello", () => {
  it("takes a well-formed hello as the agent's profile", () => {
    const { profile } = validateHello(hello({ labels: { zone: "a" } }));
    expect(profile).toMatchObject({ name: "gpu-1", slots: 2 });
    expect(profile.labels).toEqual({ zone: "a" });
  });

  it("refuses a NUL in a name or label, naming where, with every problem", () => {
    const error = refusal({
      name: "gpu\u00001",
      labels: { zone: "a\u0000b" },
      slots: 0,
    });
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toContain("hello.slots: must be 1..10000, got 0");
    expect(error.rawMessage).toContain("hello.name: holds a NUL character");
    expect(error.rawMessage).toContain(
      "hello.labels.zone: holds a NUL character",
    );
  });

  it("takes a UUID or an operator's name as the agent id, and refuses others", () => {
    for (const agentId of [crypto.randomUUID(), "gpu-node-7.lab:0", ""]) {
      expect(() => validateHello(hello({ agentId }))).not.toThrow();
    }
    for (const agentId of ["../../etc", "a b", "x".repeat(129), "é"]) {
      expect(refusal({ agentId }).rawMessage).toMatch(
        /^hello\.agent_id: must be 1 to 128 letters, digits, '\.', '_', ':' or '-', got "/,
      );
    }
  });

  it("takes the agent process's tokens, and refuses ones that are not", () => {
    const token = crypto.randomUUID();
    const { profile } = validateHello(
      hello({ processToken: token, predecessorToken: "" }),
    );
    expect(profile).toMatchObject({
      processToken: token,
      predecessorToken: "",
    });
    const error = refusal({
      processToken: "two words",
      predecessorToken: "x".repeat(129),
    });
    expect(error.rawMessage).toContain(
      'hello.process_token: at most 128 printable ASCII characters without spaces, got "two words"',
    );
    expect(error.rawMessage).toContain("hello.predecessor_token: at most 128");
  });

  it("bounds how many labels an agent has, and how long their values are", () => {
    const many = Object.fromEntries(
      Array.from({ length: 257 }, (_, i) => [`l${i}`, "x"]),
    );
    expect(refusal({ labels: many }).rawMessage).toBe(
      "hello.labels: at most 256 labels and detected labels in all, got 257",
    );
    expect(
      refusal({ detectedLabels: { long: "v".repeat(1_025) } }).rawMessage,
    ).toBe(
      "hello.detected_labels.long: a value of at most 1024 characters, got 1025",
    );
  });

  it("refuses resources the dispatcher could not count on, naming each", () => {
    const error = refusal({
      resources: {
        cpuMillis: -5000n,
        gpus: [
          { index: 1, type: "t4", memoryBytes: 1n },
          { index: 1, type: "t4", memoryBytes: -1n },
          { index: -3, type: "t4" },
        ],
      },
    });
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe(
      "hello.resources.cpu_millis: must be >= 0, got -5000; " +
        "hello.resources.gpus[1].index: GPU 1 is listed twice; " +
        "hello.resources.gpus[1].memory_bytes: must be >= 0, got -1; " +
        "hello.resources.gpus[2].index: must be >= 0, got -3",
    );
    const { profile } = validateHello(
      hello({ resources: { gpus: [{ index: 0 }, { index: 1 }] } }),
    );
    expect(profile.resources.gpus).toHaveLength(2);
  });

  it("names a bad label key without echoing all of it", () => {
    const key = `bad key ${"k".repeat(10_000)}`;
    expect(refusal({ labels: { [key]: "v" } }).rawMessage).toBe(
      `hello.labels["bad key ${"k".repeat(56)}… (10008 characters)"]: not a valid label key`,
    );
    expect(refusal({ detectedLabels: { "a b": "v" } }).rawMessage).toBe(
      'hello.detected_labels["a b"]: not a valid label key',
    );
    // Cut by character, never inside one.
    const emoji = `a${"🦌".repeat(70)}`;
    expect(refusal({ labels: { [emoji]: "v" } }).rawMessage).toBe(
      `hello.labels["a${"🦌".repeat(63)}… (71 characters)"]: not a valid label key`,
    );
  });
});
