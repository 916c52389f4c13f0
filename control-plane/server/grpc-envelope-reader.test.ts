import { EventEmitter } from "node:events";
import type { Http2ServerRequest } from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { SessionRequestSchema } from "../../gen/deerflow/v1/agent_pb.js";
import { GrpcEnvelopeReader } from "./grpc-envelope-reader.js";

/** A request that emits what the test says, and counts its pauses. */
class FakeRequest extends EventEmitter {
  paused = false;
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
}

function reader(request: FakeRequest, readMaxBytes = 1024) {
  return new GrpcEnvelopeReader(
    request as unknown as Http2ServerRequest,
    (bytes) => fromBinary(SessionRequestSchema, bytes),
    readMaxBytes,
  );
}

function envelope(agentId: string, flags = 0): Buffer {
  const bytes = toBinary(
    SessionRequestSchema,
    create(SessionRequestSchema, {
      message: { case: "hello", value: { agentId } },
    }),
  );
  const out = Buffer.alloc(5 + bytes.length);
  out[0] = flags;
  out.writeUInt32BE(bytes.length, 1);
  out.set(bytes, 5);
  return out;
}

function agentIdOf(result: IteratorResult<unknown>): string {
  const m = (result.value as { message: { value: { agentId: string } } })
    .message;
  return m.value.agentId;
}

describe("GrpcEnvelopeReader", () => {
  it("reads messages split across chunks and several in one chunk", async () => {
    const request = new FakeRequest();
    const messages = reader(request);
    const bytes = Buffer.concat([envelope("a"), envelope("b"), envelope("c")]);
    const first = messages.next();
    request.emit("data", bytes.subarray(0, 3));
    request.emit("data", bytes.subarray(3, 12));
    request.emit("data", bytes.subarray(12));
    request.emit("end");
    expect(agentIdOf(await first)).toBe("a");
    expect(agentIdOf(await messages.next())).toBe("b");
    expect(agentIdOf(await messages.next())).toBe("c");
    expect((await messages.next()).done).toBe(true);
  });

  it("hands over what arrived before the stream closed, then Canceled", async () => {
    const request = new FakeRequest();
    const messages = reader(request);
    request.emit("data", envelope("a"));
    request.emit("close");
    expect(agentIdOf(await messages.next())).toBe("a");
    await expect(messages.next()).rejects.toMatchObject({
      code: Code.Canceled,
    });
  });

  it("refuses a message over readMaxBytes and a compressed one", async () => {
    const big = new FakeRequest();
    const tooBig = reader(big, 4);
    big.emit("data", envelope("abcdef"));
    const error = await tooBig.next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.ResourceExhausted);

    const zipped = new FakeRequest();
    const compressed = reader(zipped);
    zipped.emit("data", envelope("a", 1));
    await expect(compressed.next()).rejects.toMatchObject({
      code: Code.Internal,
    });
  });

  it("pauses the request while many messages wait unread", async () => {
    const request = new FakeRequest();
    const messages = reader(request);
    for (let i = 0; i < 100; i += 1) request.emit("data", envelope(`m${i}`));
    expect(request.paused).toBe(true);
    for (let i = 0; i < 40; i += 1) await messages.next();
    expect(request.paused).toBe(false);
  });
});
