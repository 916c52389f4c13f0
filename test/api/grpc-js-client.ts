import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** The repository's proto/ folder, the only include path used. */
export const PROTO_DIR = fileURLToPath(
  new URL("../../proto/", import.meta.url),
);

/** A message as proto-loader decodes it: proto field names, plain data. */
export type GrpcMessage = Record<string, unknown>;

/**
 * Loads .proto files (paths relative to proto/) at run time with
 * proto-loader, so the client shares no generated code with the server:
 * proto field names (keepCase), int64 as strings, enums as their names,
 * defaults filled in, and each oneof's chosen field named.
 */
export function loadGrpcPackage(files: readonly string[]): grpc.GrpcObject {
  const definition = protoLoader.loadSync([...files], {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition);
}

/** A grpc-js client of one service, with promise-shaped calls. */
export interface GrpcJsClient {
  readonly raw: grpc.Client;
  /** Calls a unary method; rejects with the grpc.ServiceError. */
  unary(method: string, request: GrpcMessage): Promise<GrpcMessage>;
  /** Calls a server-streaming method; iterate the result for messages. */
  serverStream(
    method: string,
    request: GrpcMessage,
  ): grpc.ClientReadableStream<GrpcMessage>;
  /** Calls a bidirectional-streaming method (with a deadline, say). */
  bidiStream(
    method: string,
    options?: grpc.CallOptions,
  ): grpc.ClientDuplexStream<GrpcMessage, GrpcMessage>;
  close(): void;
}

type Callback = (error: grpc.ServiceError | null, value: GrpcMessage) => void;
type AnyMethod = (...args: unknown[]) => unknown;

/**
 * A plaintext grpc-js client of `serviceName` (e.g.
 * "deerflow.v1.RunService") at a control plane's http:// URL. Proxy
 * settings from the environment are ignored: tests talk to loopback only.
 */
export function grpcJsClient(
  pkg: grpc.GrpcObject,
  serviceName: string,
  url: string,
): GrpcJsClient {
  const Service = lookupService(pkg, serviceName);
  const raw = new Service(
    new URL(url).host,
    grpc.credentials.createInsecure(),
    { "grpc.enable_http_proxy": 0 },
  );
  const method = (name: string): AnyMethod => {
    const fn = (raw as unknown as Record<string, unknown>)[name];
    if (typeof fn !== "function") {
      throw new Error(`${serviceName} has no method ${name}`);
    }
    return (fn as AnyMethod).bind(raw);
  };
  return {
    raw,
    unary: (name, request) =>
      new Promise((resolve, reject) => {
        const callback: Callback = (error, value) =>
          error ? reject(error) : resolve(value);
        method(name)(request, callback);
      }),
    serverStream: (name, request) =>
      method(name)(request) as grpc.ClientReadableStream<GrpcMessage>,
    bidiStream: (name, options) =>
      method(name)(
        new grpc.Metadata(),
        options ?? {},
      ) as grpc.ClientDuplexStream<GrpcMessage, GrpcMessage>,
    close: () => raw.close(),
  };
}

function lookupService(
  pkg: grpc.GrpcObject,
  serviceName: string,
): grpc.ServiceClientConstructor {
  let node: unknown = pkg;
  for (const part of serviceName.split(".")) {
    node = (node as Record<string, unknown> | undefined)?.[part];
  }
  if (typeof node !== "function" || !("service" in node)) {
    throw new Error(`service ${serviceName} is not in the loaded protos`);
  }
  return node as grpc.ServiceClientConstructor;
}

/** The ServiceError a call rejected with, for asserting its code. */
export async function grpcError(call: Promise<unknown>): Promise<{
  code: grpc.status;
  details: string;
}> {
  try {
    await call;
  } catch (error) {
    const { code, details } = error as grpc.ServiceError;
    return { code, details };
  }
  throw new Error("the call succeeded; an error was expected");
}
