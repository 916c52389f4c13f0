import { randomBytes } from "node:crypto";
import { type ApiClients, createApiClients } from "../../cli/api-clients.js";
import {
  type ControlPlane,
  type ControlPlaneOptions,
  startControlPlane,
} from "../../control-plane/index.js";
import { createLogger } from "../../core/index.js";
import type { TestBackend, TestDatabase } from "./test-database.js";

/** A control plane on a fresh database, with clients for its API. */
export interface TestControlPlane {
  controlPlane: ControlPlane;
  clients: ApiClients;
  database: TestDatabase;
  url: string;
  /** Stops the control plane and drops its database; idempotent. */
  close(): Promise<void>;
}

/** Starts a control plane on loopback, on a fresh database of `backend`. */
export async function startTestControlPlane(
  backend: TestBackend,
  options: ControlPlaneOptions = {},
): Promise<TestControlPlane> {
  const database = await backend.create();
  const controlPlane = await startControlPlane({
    listen: "127.0.0.1:0",
    databaseUrl: database.url,
    dataDir: database.dataDir,
    // Its own secret key, so tests never create ~/.deerflow/secret.key.
    secrets: { key: randomBytes(32).toString("base64") },
    logger: createLogger({
      level: process.env.DEERFLOW_TEST_LOG_LEVEL ?? "warn",
      pretty: false,
    }),
    ...options,
  });
  let closing: Promise<void> | undefined;
  return {
    controlPlane,
    clients: createApiClients(controlPlane.url),
    database,
    url: controlPlane.url,
    close() {
      closing ??= controlPlane.close().then(() => database.drop());
      return closing;
    },
  };
}
