import { fromBinary } from "@bufbuild/protobuf";
import {
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import {
  type GrpcJsClient,
  type GrpcMessage,
  grpcJsClient,
  loadGrpcPackage,
} from "./grpc-js-client.js";

const VERSIONS = [
  { version: "v1", service: "grpc.reflection.v1.ServerReflection" },
  // grpcurl and older tools try v1alpha first, or only.
  { version: "v1alpha", service: "grpc.reflection.v1alpha.ServerReflection" },
] as const;

/** One ServerReflectionInfo stream, asked one question at a time. */
interface ReflectionSession {
  ask(request: GrpcMessage): Promise<GrpcMessage>;
  end(): void;
}

function openSession(client: GrpcJsClient): ReflectionSession {
  const stream = client.bidiStream("ServerReflectionInfo");
  const answers = stream[Symbol.asyncIterator]();
  return {
    async ask(request) {
      stream.write(request);
      const next = await answers.next();
      if (next.done) throw new Error("the reflection stream ended early");
      return next.value as GrpcMessage;
    },
    end: () => stream.end(),
  };
}

function descriptors(answer: GrpcMessage): FileDescriptorProto[] {
  expect(answer.message_response, JSON.stringify(answer)).toBe(
    "file_descriptor_response",
  );
  const files = (
    answer.file_descriptor_response as { file_descriptor_proto: Buffer[] }
  ).file_descriptor_proto;
  return files.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
}

describe.each(testBackends())("server reflection on $name", (backend) => {
  let cp: TestControlPlane;
  const clients: GrpcJsClient[] = [];

  beforeAll(async () => {
    cp = await startTestControlPlane(backend);
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await cp?.close();
  });

  describe.each(VERSIONS)("$version", ({ version, service }) => {
    const session = async () => {
      const pkg = loadGrpcPackage([
        `grpc/reflection/${version}/reflection.proto`,
      ]);
      const client = grpcJsClient(pkg, service, cp.url);
      clients.push(client);
      return openSession(client);
    };

    it("lists the services", async () => {
      const s = await session();
      const answer = await s.ask({ list_services: "" });
      s.end();
      const names = (
        answer.list_services_response as { service: Array<{ name: string }> }
      ).service.map((x) => x.name);
      expect(names).toEqual(
        expect.arrayContaining([
          "deerflow.v1.WorkflowService",
          "deerflow.v1.RunService",
          "deerflow.v1.AgentService",
          "deerflow.v1.LeaseService",
          "deerflow.v1.SecretService",
          "grpc.health.v1.Health",
          "grpc.reflection.v1.ServerReflection",
        ]),
      );
    });

    it("returns the file of RunService with its imports", async () => {
      const s = await session();
      const answer = await s.ask({
        file_containing_symbol: "deerflow.v1.RunService",
      });
      s.end();
      const files = descriptors(answer);
      const run = files.find((f) => f.name === "deerflow/v1/run.proto");
      expect(run?.package).toBe("deerflow.v1");
      const runService = run?.service.find((x) => x.name === "RunService");
      expect(runService?.method.map((m) => m.name)).toEqual(
        expect.arrayContaining(["StartRun", "GetRun", "WatchRun"]),
      );
      // Every import travels along, so a client can build the types
      // without asking again.
      const names = new Set(files.map((f) => f.name));
      for (const file of files) {
        for (const dependency of file.dependency) {
          expect(names, `${file.name} imports ${dependency}`).toContain(
            dependency,
          );
        }
      }
    });

    it("resolves every listed service, as `grpcurl describe` does", async () => {
      const s = await session();
      const listed = await s.ask({ list_services: "" });
      const names = (
        listed.list_services_response as { service: Array<{ name: string }> }
      ).service.map((x) => x.name);
      for (const name of names) {
        const answer = await s.ask({ file_containing_symbol: name });
        const short = name.slice(name.lastIndexOf(".") + 1);
        const files = descriptors(answer);
        const declares = files.some(
          (f) =>
            name === `${f.package}.${short}` &&
            f.service.some((x) => x.name === short),
        );
        expect(declares, `a file declaring ${name}`).toBe(true);
      }
      s.end();
    });

    it("finds a file by name and answers NOT_FOUND for unknown symbols", async () => {
      const s = await session();
      const byName = await s.ask({ file_by_filename: "deerflow/v1/run.proto" });
      expect(descriptors(byName).map((f) => f.name)).toContain(
        "deerflow/v1/run.proto",
      );
      const missing = await s.ask({ file_containing_symbol: "no.such.Thing" });
      s.end();
      expect(missing.message_response).toBe("error_response");
      expect(missing.error_response).toMatchObject({ error_code: 5 });
    });
  });
});
