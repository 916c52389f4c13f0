import { create, type DescFile, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  file_grpc_reflection_v1_reflection,
  type ServerReflection,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
  ServerReflectionResponseSchema,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { file_grpc_reflection_v1alpha_reflection } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/**
 * grpc.reflection.v1 (and v1alpha, which has the same messages): lets
 * grpcurl and similar tools list the services and read their
 * descriptors without a copy of proto/. Its own files are always served:
 * it lists itself, and `grpcurl describe` (like grpcui) asks for the file
 * of every listed service, failing on the first one it cannot resolve.
 */
export function createReflectionService(
  files: readonly DescFile[],
  serviceNames: readonly string[],
): ServiceImpl<typeof ServerReflection> {
  const index = indexFiles([
    ...files,
    file_grpc_reflection_v1_reflection,
    file_grpc_reflection_v1alpha_reflection,
  ]);
  return {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) {
        yield answer(request, index, serviceNames);
      }
    },
  };
}

interface FileIndex {
  byName: Map<string, DescFile>;
  bySymbol: Map<string, DescFile>;
}

function indexFiles(roots: readonly DescFile[]): FileIndex {
  const byName = new Map<string, DescFile>();
  const bySymbol = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (byName.has(`${file.name}.proto`)) return;
    byName.set(`${file.name}.proto`, file);
    for (const m of file.messages) indexMessage(m, file, bySymbol);
    for (const e of file.enums) bySymbol.set(e.typeName, file);
    for (const s of file.services) {
      bySymbol.set(s.typeName, file);
      for (const method of s.methods) {
        bySymbol.set(`${s.typeName}.${method.name}`, file);
      }
    }
    for (const dep of file.dependencies) visit(dep);
  };
  for (const file of roots) visit(file);
  return { byName, bySymbol };
}

function indexMessage(
  message: DescFile["messages"][number],
  file: DescFile,
  into: Map<string, DescFile>,
) {
  into.set(message.typeName, file);
  for (const nested of message.nestedMessages) indexMessage(nested, file, into);
  for (const e of message.nestedEnums) into.set(e.typeName, file);
}

/** The file and everything it imports, dependencies first. */
function withDependencies(file: DescFile): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  const visit = (f: DescFile) => {
    if (seen.has(f.name)) return;
    seen.add(f.name);
    for (const dep of f.dependencies) visit(dep);
    out.push(toBinary(FileDescriptorProtoSchema, f.proto));
  };
  visit(file);
  return out;
}

const NOT_FOUND = 5;
const UNIMPLEMENTED = 12;

function answer(
  request: ServerReflectionRequest,
  index: FileIndex,
  serviceNames: readonly string[],
): ServerReflectionResponse {
  const base = { validHost: request.host, originalRequest: request };
  const found = (file: DescFile | undefined, what: string) =>
    file
      ? create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: {
            case: "fileDescriptorResponse",
            value: { fileDescriptorProto: withDependencies(file) },
          },
        })
      : error(base, NOT_FOUND, `${what} not found`);
  const m = request.messageRequest;
  switch (m.case) {
    case "listServices":
      return create(ServerReflectionResponseSchema, {
        ...base,
        messageResponse: {
          case: "listServicesResponse",
          value: { service: serviceNames.map((name) => ({ name })) },
        },
      });
    case "fileByFilename":
      return found(index.byName.get(m.value), `file ${m.value}`);
    case "fileContainingSymbol":
      return found(index.bySymbol.get(m.value), `symbol ${m.value}`);
    case "allExtensionNumbersOfType":
      return create(ServerReflectionResponseSchema, {
        ...base,
        messageResponse: {
          case: "allExtensionNumbersResponse",
          value: { baseTypeName: m.value, extensionNumber: [] },
        },
      });
    default:
      return error(base, UNIMPLEMENTED, "request kind not supported");
  }
}

function error(
  base: { validHost: string; originalRequest: ServerReflectionRequest },
  code: number,
  message: string,
) {
  return create(ServerReflectionResponseSchema, {
    ...base,
    messageResponse: {
      case: "errorResponse",
      value: { errorCode: code, errorMessage: message },
    },
  });
}
