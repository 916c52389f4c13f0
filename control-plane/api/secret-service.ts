import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type Secret,
  SecretSchema,
  type SecretService,
} from "../../gen/deerflow/v1/secret_pb.js";
import { secretNameProblem } from "../../workflow/index.js";
import type { SecretMetadata, SecretStore } from "../secrets/secret-store.js";
import { invalidArgument } from "./connect-errors.js";

/** The largest secret value, in bytes of UTF-8. */
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;

export interface SecretServiceDeps {
  /** Undefined when the server has no key; calls then say why. */
  store: SecretStore | undefined;
  storeProblem?: string | undefined;
}

/**
 * SecretService: put, list and delete secrets of the built-in store.
 * Values go in and are never returned; answers carry names and times.
 */
export function createSecretService(
  deps: SecretServiceDeps,
): ServiceImpl<typeof SecretService> {
  const store = (): SecretStore => {
    if (deps.store) return deps.store;
    throw new ConnectError(
      deps.storeProblem ?? "the secret store is unavailable",
      Code.FailedPrecondition,
    );
  };
  return {
    async putSecret(req) {
      const name = checkName(req.name);
      checkValue(req.value);
      return { secret: toSecret(await store().put(name, req.value)) };
    },
    async listSecrets() {
      return { secrets: (await store().list()).map(toSecret) };
    },
    async deleteSecret(req) {
      const name = checkName(req.name);
      if (!(await store().delete(name))) {
        throw new ConnectError(`secret "${name}" not found`, Code.NotFound);
      }
      return {};
    },
  };
}

function checkName(name: string): string {
  if (name === "") throw invalidArgument("name", "is required");
  const problem = secretNameProblem(name);
  if (problem !== "") throw invalidArgument("name", problem);
  return name;
}

/** The message never holds the value, not even a part of it. */
function checkValue(value: string): void {
  if (value === "") throw invalidArgument("value", "is required");
  if (value.includes("\u0000")) {
    // A secret reaches a task as an environment variable, which cannot
    // hold one; the error the task would get quotes the value.
    throw invalidArgument(
      "value",
      "holds a NUL character (\\u0000), which an environment variable cannot carry",
    );
  }
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes > MAX_SECRET_VALUE_BYTES) {
    throw invalidArgument(
      "value",
      `is ${bytes} bytes; at most ${MAX_SECRET_VALUE_BYTES} (64 KiB)`,
    );
  }
}

function toSecret(row: SecretMetadata): Secret {
  return create(SecretSchema, {
    name: row.name,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  });
}
