import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { ControlPlaneOptions } from "../../control-plane/index.js";
import type { SecretOptions } from "../../control-plane/secrets/index.js";
import { SecretService } from "../../gen/deerflow/v1/secret_pb.js";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import type { TestBackend } from "../support/test-database.js";

/** A test control plane with its own secret key file and a secrets client. */
export interface SecretsControlPlane extends TestControlPlane {
  secrets: Client<typeof SecretService>;
  /** The key file, in a directory the test owns. */
  keyFile: string;
}

/**
 * Starts a control plane whose secret key lives in a fresh temporary
 * directory (never the home directory), removed on close.
 */
export async function startSecretsControlPlane(
  backend: TestBackend,
  secrets: SecretOptions = {},
  options: ControlPlaneOptions = {},
): Promise<SecretsControlPlane> {
  const keyDir = await mkdtemp(join(tmpdir(), "deerflow-secret-key-"));
  const keyFile = join(keyDir, "secret.key");
  let cp: TestControlPlane;
  try {
    cp = await startTestControlPlane(backend, {
      ...options,
      secrets: { keyFile, envAllow: [], environment: {}, ...secrets },
    });
  } catch (error) {
    await rm(keyDir, { recursive: true, force: true });
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    ...cp,
    keyFile,
    secrets: createClient(
      SecretService,
      createGrpcTransport({ baseUrl: cp.url }),
    ),
    close() {
      closing ??= cp
        .close()
        .finally(() => rm(keyDir, { recursive: true, force: true }));
      return closing;
    },
  };
}

/** A value no test output could hold by chance. */
export function uniqueSecret(label: string): string {
  return `${label}-${randomBytes(12).toString("hex")}`;
}
