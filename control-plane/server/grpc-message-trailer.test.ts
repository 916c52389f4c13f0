import { describe, expect, it } from "vitest";
import { encodeGrpcMessage } from "./grpc-message-trailer.js";

describe("encodeGrpcMessage", () => {
  it("sends printable ASCII as it is, punctuation included", () => {
    expect(encodeGrpcMessage('run_id: "x" is not valid, see {a}')).toBe(
      'run_id: "x" is not valid, see {a}',
    );
  });

  it("escapes percent, control bytes and UTF-8", () => {
    expect(encodeGrpcMessage("100%\nné")).toBe("100%25%0An%C3%A9");
  });

  it("round-trips through decodeURIComponent and grpc-js's decodeURI", () => {
    const text = "the definition has 2 problems:\ntask a: é, 50%";
    const wire = encodeGrpcMessage(text);
    expect(decodeURIComponent(wire)).toBe(text);
    expect(decodeURI(wire)).toBe(text);
  });
});
