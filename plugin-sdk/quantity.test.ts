import { describe, expect, it } from "vitest";
import { quantityOverflows, quantityValue } from "./quantity.js";

describe("quantities", () => {
  it("reads Kubernetes notation and plain numbers", () => {
    expect(quantityValue("500m")).toBe(0.5);
    expect(quantityValue("4Gi")).toBe(4 * 2 ** 30);
    expect(quantityValue("1e3")).toBe(1000);
    expect(quantityValue(2)).toBe(2);
    expect(quantityValue("lots")).toBeUndefined();
    expect(quantityValue(-1)).toBeUndefined();
  });

  it("tells an amount too large for a number from one that is no quantity", () => {
    for (const huge of ["1e400", "1e309", Number.POSITIVE_INFINITY]) {
      expect(quantityValue(huge)).toBeUndefined();
      expect(quantityOverflows(huge)).toBe(true);
    }
    for (const other of ["lots", "1e", -1, Number.NaN, "1e308", "4Gi", null]) {
      expect(quantityOverflows(other)).toBe(false);
    }
  });
});
