import { describe, expect, it } from "vitest";
import {
  CLIENT_DEFAULTS,
  type ClientOptions,
  resolveClientOptions,
} from "./client-options.js";
import { SdkError } from "./sdk-error.js";

describe("resolveClientOptions", () => {
  it("fills the defaults", () => {
    const resolved = resolveClientOptions({ baseUrl: "http://127.0.0.1:1/" });
    expect(resolved).toEqual({
      baseUrl: "http://127.0.0.1:1",
      protocol: CLIENT_DEFAULTS.protocol,
      token: undefined,
      timeoutMs: CLIENT_DEFAULTS.timeoutMs,
      httpVersion: CLIENT_DEFAULTS.httpVersion,
      interceptors: [],
    });
  });

  it("names the option that is wrong", () => {
    const cases: [unknown, string][] = [
      [{}, "baseUrl"],
      [{ baseUrl: "127.0.0.1:7070" }, "baseUrl"],
      [{ baseUrl: "ftp://127.0.0.1" }, "baseUrl"],
      [{ baseUrl: "http://h", protocol: "rest" }, "protocol"],
      [{ baseUrl: "http://h", token: "a\nb" }, "token"],
      [{ baseUrl: "http://h", token: "" }, "token"],
      [{ baseUrl: "http://h", timeoutMs: -1 }, "timeoutMs"],
      [{ baseUrl: "http://h", timeoutMs: 1.5 }, "timeoutMs"],
      [{ baseUrl: "http://h", httpVersion: "3" }, "httpVersion"],
      [
        { baseUrl: "http://h", protocol: "grpc", httpVersion: "1.1" },
        "httpVersion",
      ],
    ];
    for (const [options, field] of cases) {
      let error: unknown;
      try {
        resolveClientOptions(options as ClientOptions);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SdkError);
      expect((error as SdkError).code).toBe("invalid_option");
      expect((error as SdkError).field).toBe(field);
      expect((error as SdkError).message.startsWith(`${field}: `)).toBe(true);
    }
  });
});
