import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  COMPRESSED_WITHOUT_ENCODING,
  isCompressedWithoutEncoding,
  toConnectError,
} from "./connect-errors.js";

describe("isCompressedWithoutEncoding", () => {
  it("knows the fault in our gRPC route's words and in connect-es's", () => {
    for (const words of [
      COMPRESSED_WITHOUT_ENCODING,
      "received compressed envelope, but do not know how to decompress",
    ]) {
      const error = toConnectError(new ConnectError(words, Code.Internal));
      expect(error.code).toBe(Code.Internal);
      expect(isCompressedWithoutEncoding(error)).toBe(true);
    }
  });

  it("leaves every other internal error to be logged as ours", () => {
    expect(
      isCompressedWithoutEncoding(new ConnectError("boom", Code.Internal)),
    ).toBe(false);
    expect(
      isCompressedWithoutEncoding(
        new ConnectError(COMPRESSED_WITHOUT_ENCODING, Code.InvalidArgument),
      ),
    ).toBe(false);
    expect(isCompressedWithoutEncoding(new Error("boom"))).toBe(false);
  });
});
