import { describe, expect, it } from "vitest";
import { KubeApiError, parseStatus, toKubeApiError } from "./kube-api-error.js";

describe("KubeApiError", () => {
  it("names the operation, status code, reason and message", () => {
    const body = JSON.stringify({
      kind: "Status",
      code: 422,
      reason: "Invalid",
      message: 'Job.batch "x" is invalid: spec.template: Required value',
    });
    const error = toKubeApiError('create Job "x"', { code: 422, body });
    expect(error.message).toBe(
      'create Job "x": 422 Invalid: Job.batch "x" is invalid: spec.template: Required value',
    );
    expect(error.statusCode).toBe(422);
    expect(error.transient).toBe(false);
  });

  it("fills in a reason when the response has no Status", () => {
    const error = toKubeApiError("read Job", { code: 401, body: undefined });
    expect(error.message).toBe(
      "read Job: 401 Unauthorized: no Status in the response",
    );
    expect(
      toKubeApiError("x", { code: 502, body: "bad gateway" }).message,
    ).toBe("x: 502 BadGateway: bad gateway");
  });

  it("tells network failures and timeouts apart, both transient", () => {
    const refused = toKubeApiError("list pods", {
      name: "FetchError",
      code: "ECONNREFUSED",
      message: "connect ECONNREFUSED 127.0.0.1:1",
    });
    expect(refused.message).toBe(
      "list pods: request failed: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1",
    );
    expect(refused.transient).toBe(true);
    const timedOut = toKubeApiError("read Job", { name: "AbortError" }, true);
    expect(timedOut.message).toBe("read Job: the request timed out");
    expect(
      new KubeApiError("x", { statusCode: 429, message: "slow" }).transient,
    ).toBe(true);
    expect(
      new KubeApiError("x", { statusCode: 404, message: "gone" }).transient,
    ).toBe(false);
  });

  it("reads Status bodies leniently", () => {
    expect(parseStatus("")).toBeUndefined();
    expect(parseStatus('{"reason":"NotFound","code":404}')).toEqual({
      code: 404,
      reason: "NotFound",
      message: undefined,
    });
    expect(parseStatus("plain")).toEqual({ message: "plain" });
  });
});
