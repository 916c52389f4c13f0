import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestControlPlane,
  type TestControlPlane,
} from "../support/test-control-plane.js";
import { testBackends } from "../support/test-database.js";
import { readEnvelopes } from "./connect-envelope.js";
import { curl } from "./curl.js";

const [pglite] = testBackends();

/**
 * Bytes that are no protobuf message: field number 0 is illegal, and
 * wire type 7 does not exist. Fixed, so the test cannot pass by luck.
 */
const GARBAGE = Buffer.from([0x00, 0x07, 0xff, 0xfe, 0x13, 0x37]);

describe("a request body that is no protobuf message", () => {
  let cp: TestControlPlane;
  let scratch: string;
  const method = (name: string) => `${cp.url}/deerflow.v1.RunService/${name}`;

  beforeAll(async () => {
    if (!pglite) throw new Error("no PGlite backend");
    cp = await startTestControlPlane(pglite);
    scratch = await mkdtemp(join(tmpdir(), "deerflow-garbage-"));
  });

  afterAll(async () => {
    await cp?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it("WatchRun over Connect streaming ends with invalid_argument", async () => {
    const header = Buffer.alloc(5);
    header.writeUInt32BE(GARBAGE.length, 1);
    const request = join(scratch, "watch-garbage.bin");
    await writeFile(request, Buffer.concat([header, GARBAGE]));
    const res = await curl(method("WatchRun"), [
      "--header",
      "Content-Type: application/connect+proto",
      "--data-binary",
      `@${request}`,
    ]);
    expect(res.status).toBe(200);
    const stream = readEnvelopes(res.bytes);
    expect(stream.messages).toEqual([]);
    expect(stream.end).toMatchObject({
      error: {
        code: "invalid_argument",
        message: expect.stringContaining(
          "the request body is not a valid protobuf message",
        ),
      },
    });
  });
});
