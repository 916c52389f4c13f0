import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SecretService } from "../gen/deerflow/v1/secret_pb.js";
import { reportError } from "./cli-output.js";
import { serverUrl } from "./key-value.js";

/** A client for the SecretService of one server. */
export type SecretsClient = Client<typeof SecretService>;

/**
 * Runs a `deerflow secrets` command body against the server named by
 * --server (or DEERFLOW_SERVER) and sets the exit code, as the other
 * commands do: 0 done, 2 for a mistake or an unreachable server.
 */
export async function withSecretsClient(
  flag: string | undefined,
  body: (client: SecretsClient) => Promise<number>,
): Promise<void> {
  let url: string | undefined;
  try {
    url = serverUrl(flag);
    const client = createClient(
      SecretService,
      createGrpcTransport({ baseUrl: url }),
    );
    process.exitCode = await body(client);
  } catch (error) {
    process.exitCode = reportError(error, url);
  }
}
