import { toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ListSecretsResponseSchema,
  PutSecretResponseSchema,
} from "../../gen/deerflow/v1/secret_pb.js";
import { testBackends } from "../support/test-database.js";
import { findInDatabase } from "./scan-database.js";
import {
  type SecretsControlPlane,
  startSecretsControlPlane,
  uniqueSecret,
} from "./secrets-control-plane.js";

async function refusal(call: Promise<unknown>): Promise<ConnectError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

describe.each(testBackends())("SecretService on $name", (backend) => {
  let cp: SecretsControlPlane;

  beforeEach(async () => {
    cp = await startSecretsControlPlane(backend);
  });

  afterEach(async () => {
    await cp.close();
  });

  it("puts, lists and deletes secrets, never answering a value", async () => {
    const value = uniqueSecret("api-service");
    const put = await cp.secrets.putSecret({ name: "API_TOKEN", value });
    expect(put.secret?.name).toBe("API_TOKEN");
    expect(toJsonString(PutSecretResponseSchema, put)).not.toContain(value);
    const again = await cp.secrets.putSecret({
      name: "API_TOKEN",
      value: `${value}-2`,
    });
    expect(again.secret?.createdAt).toEqual(put.secret?.createdAt);
    await cp.secrets.putSecret({ name: "another_one", value: "xyz-123" });

    const listed = await cp.secrets.listSecrets({});
    expect(listed.secrets.map((s) => s.name)).toEqual([
      "API_TOKEN",
      "another_one",
    ]);
    const json = toJsonString(ListSecretsResponseSchema, listed);
    expect(json).not.toContain(value);
    expect(json).not.toContain("xyz-123");

    await cp.secrets.deleteSecret({ name: "API_TOKEN" });
    const after = await cp.secrets.listSecrets({});
    expect(after.secrets.map((s) => s.name)).toEqual(["another_one"]);
  });

  it("stores only ciphertext", async () => {
    const value = uniqueSecret("at-rest");
    await cp.secrets.putSecret({ name: "AT_REST", value });
    const db = cp.controlPlane.database.db;
    const base64 = Buffer.from(value).toString("base64");
    expect(await findInDatabase(db, [value, base64])).toEqual([]);
    // The scan does find what is there: the name.
    expect(await findInDatabase(db, ["AT_REST"])).toContainEqual({
      table: "public.secrets",
      column: "name",
      needle: "AT_REST",
    });
  });

  it("answers not_found when deleting a secret that is not there", async () => {
    const error = await refusal(cp.secrets.deleteSecret({ name: "NOPE" }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.rawMessage).toBe('secret "NOPE" not found');
  });

  it("names the field of a bad request, never echoing the value", async () => {
    const cases = [
      [{ name: "", value: "x" }, "name: is required"],
      [{ name: "has-dash", value: "x" }, 'name: "has-dash" must match'],
      [{ name: "1ST", value: "x" }, 'name: "1ST" must match'],
      [{ name: "N".repeat(257), value: "x" }, "name: must be at most 256"],
      [{ name: "EMPTY", value: "" }, "value: is required"],
      [
        { name: "BIG", value: "s".repeat(64 * 1024 + 1) },
        "value: is 65537 bytes; at most 65536 (64 KiB)",
      ],
      [
        { name: "NUL", value: "top\u0000secret" },
        "value: holds a NUL character (\\u0000), which an environment variable cannot carry",
      ],
    ] as const;
    for (const [request, message] of cases) {
      const error = await refusal(cp.secrets.putSecret(request));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toContain(message);
      if (request.value.length > 1) {
        expect(error.rawMessage).not.toContain(request.value.slice(0, 16));
      }
    }
    const ok = await cp.secrets.putSecret({
      name: "JUST_FITS",
      value: "é".repeat(32 * 1024),
    });
    expect(ok.secret?.name).toBe("JUST_FITS");
    const badDelete = await refusal(cp.secrets.deleteSecret({ name: "" }));
    expect(badDelete.rawMessage).toBe("name: is required");
  });
});
