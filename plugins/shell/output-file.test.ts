import { describe, expect, it } from "vitest";
import { OutputFileError, parseOutputFile } from "./output-file.js";

describe("parseOutputFile", () => {
  it("reads an empty file as an empty object", () => {
    expect(parseOutputFile("")).toEqual({});
    expect(parseOutputFile("\n  \n")).toEqual({});
  });

  it("reads one JSON object", () => {
    expect(parseOutputFile('\n{"a": {"b": [1, null]}}\n')).toEqual({
      a: { b: [1, null] },
    });
  });

  it("names the line of a JSON syntax error", () => {
    expect(() => parseOutputFile('{"a": 1,\n"b" 2}')).toThrow(
      /output file line 2 is not valid JSON/,
    );
  });

  it("rejects JSON that is not an object", () => {
    expect(() => parseOutputFile("[1]")).toThrow(OutputFileError);
  });

  it("types key=value values that are JSON numbers or booleans", () => {
    const text = [
      "# a comment",
      "count=3",
      "neg=-1.5e3",
      "flag=false",
      "padded= 7",
      "zip=007",
      "empty=",
      "url=http://x/?a=b",
      "",
    ].join("\r\n");
    expect(parseOutputFile(text)).toEqual({
      count: 3,
      neg: -1500,
      flag: false,
      padded: " 7",
      zip: "007",
      empty: "",
      url: "http://x/?a=b",
    });
  });

  it("names the line of a bad pair", () => {
    expect(() => parseOutputFile("a=1\n\n=2\n")).toThrow(
      /output file line 3: expected key=value/,
    );
    expect(() => parseOutputFile("a=1\nno equals")).toThrow(/line 2/);
  });

  it("refuses a __proto__ key, which would be lost, naming the line", () => {
    expect(() => parseOutputFile("ok=1\n__proto__=7\n")).toThrow(
      'output file line 2: "__proto__" cannot be a key; rename it',
    );
  });
});
