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

describe("toConnectError for a database that went away", () => {
  /** An error as drizzle throws it: its own message, the driver's cause. */
  function wrapped(cause: Error): Error {
    return new Error('Failed query: select "task_types" from "agents"', {
      cause,
    });
  }

  function withCode(message: string, code: string): Error {
    return Object.assign(new Error(message), { code });
  }

  it("answers unavailable, also when the driver's error is the cause", () => {
    for (const cause of [
      withCode("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED"),
      withCode("read ECONNRESET", "ECONNRESET"),
      withCode("write CONNECTION_DESTROYED", "CONNECTION_DESTROYED"),
      withCode("terminating connection due to administrator command", "57P01"),
      withCode("the database system is starting up", "57P03"),
      withCode("sorry, too many clients already", "53300"),
      withCode("connection failure", "08006"),
      withCode(
        "terminating connection due to idle-in-transaction timeout",
        "25P03",
      ),
    ]) {
      expect(toConnectError(cause).code, cause.message).toBe(Code.Unavailable);
      expect(toConnectError(wrapped(cause)).code, cause.message).toBe(
        Code.Unavailable,
      );
    }
  });

  it("keeps the error as the cause, for the server's log", () => {
    const cause = withCode(
      "connect ECONNREFUSED 127.0.0.1:5432",
      "ECONNREFUSED",
    );
    const error = toConnectError(wrapped(cause));
    expect(error.message).toBe("[unavailable] the database is unavailable");
    expect((error.cause as Error).cause).toBe(cause);
  });

  it("answers unavailable for a statement the database cancelled, saying when it timed out", () => {
    const timedOut = toConnectError(
      wrapped(
        withCode("canceling statement due to statement timeout", "57014"),
      ),
    );
    expect(timedOut.code).toBe(Code.Unavailable);
    expect(timedOut.rawMessage).toBe(
      "the database statement timed out (statement timeout)",
    );
    const cancelled = toConnectError(
      withCode("canceling statement due to user request", "57014"),
    );
    expect(cancelled.code).toBe(Code.Unavailable);
    expect(cancelled.rawMessage).toBe("the database cancelled the statement");
  });

  it("leaves other failures internal", () => {
    expect(toConnectError(wrapped(new Error("boom"))).code).toBe(Code.Internal);
    expect(toConnectError(withCode("division by zero", "22012")).code).toBe(
      Code.Internal,
    );
  });
});
