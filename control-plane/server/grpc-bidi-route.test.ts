import { once } from "node:events";
import {
  connect,
  createServer,
  type Http2Server,
  type IncomingHttpHeaders,
} from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import {
  AgentService,
  SessionResponseSchema,
} from "../../gen/deerflow/v1/agent_pb.js";
import { GrpcBidiRoute } from "./grpc-bidi-route.js";

describe("GrpcBidiRoute", () => {
  let server: Http2Server | undefined;
  afterEach(async () => {
    server?.close();
    server = undefined;
  });

  it("ends a call whose response fails to encode, though its requests go on", async () => {
    const route = new GrpcBidiRoute(
      AgentService.method.session,
      // Like an agent session: it waits for its requests to end before it
      // returns.
      async function* (requests) {
        const reading = (async () => {
          for await (const _ of requests) {
            // Requests are read and dropped.
          }
        })().catch(() => {});
        try {
          yield create(SessionResponseSchema, {
            message: { case: "drain", value: { gracePeriodMs: 1 } },
          });
        } finally {
          await reading;
        }
      },
      {
        readMaxBytes: 1024,
        toError: (error) =>
          new ConnectError(
            `failed: ${(error as Error).message}`,
            Code.Internal,
          ),
        encode: () => {
          throw new Error("cannot encode this response");
        },
      },
    );
    server = createServer((req, res) => void route.serve(req, res));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const client = connect(`http://127.0.0.1:${port}`);
    try {
      const call = client.request({
        ":method": "POST",
        ":path": route.path,
        "content-type": "application/grpc",
        te: "trailers",
      });
      // The request side stays open, as an agent's does.
      const trailers = new Promise<IncomingHttpHeaders>((resolve) => {
        call.on("trailers", resolve);
        call.on("response", (headers) => {
          if (headers["grpc-status"] !== undefined) resolve(headers);
        });
      });
      call.resume();
      const ended = await trailers;
      expect(ended["grpc-status"]).toBe(String(Code.Internal));
      expect(decodeURIComponent(String(ended["grpc-message"]))).toBe(
        "failed: cannot encode this response",
      );
      call.close();
    } finally {
      client.close();
    }
  });
});
