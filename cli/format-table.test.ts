import { describe, expect, it } from "vitest";
import { cutToWidth, formatTable } from "./format-table.js";

const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe("formatTable", () => {
  it("lines columns up by terminal width, wide characters included", () => {
    const table = formatTable(
      ["TASK", "OUTPUT"],
      [
        ["日本", "wide"],
        ["ab", "narrow"],
        ["🦌", "emoji"],
      ],
    );
    expect(table.split("\n")).toEqual([
      "TASK  OUTPUT",
      "日本  wide",
      "ab    narrow",
      "🦌    emoji",
    ]);
  });
});

describe("cutToWidth", () => {
  it("leaves text that fits as it is", () => {
    expect(cutToWidth("short", 10)).toBe("short");
    expect(cutToWidth("1234567890", 10)).toBe("1234567890");
  });

  it("cuts to the width with an ellipsis", () => {
    expect(cutToWidth("12345678901", 10)).toBe("1234567...");
  });

  it("never splits an emoji, a surrogate pair or a joined sequence", () => {
    // Each family emoji is one grapheme of several code points, 2 columns.
    const family = "👨‍👩‍👧";
    const cut = cutToWidth(`abcdefg${family}${family}`, 10);
    expect(cut).toBe("abcdefg...");
    expect(cutToWidth(`abcde${family}wxyz`, 10)).toBe(`abcde${family}...`);
    for (const text of [cut, cutToWidth("🦌".repeat(40), 9)]) {
      expect(text).not.toMatch(LONE_SURROGATE);
    }
    expect(cutToWidth("🦌".repeat(40), 9)).toBe("🦌🦌🦌...");
  });

  it("counts wide characters as two columns", () => {
    expect(cutToWidth("日本語のテキストです", 10)).toBe("日本語...");
  });
});
