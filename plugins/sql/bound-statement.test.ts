import { describe, expect, it } from "vitest";
import { bindStatement } from "./bound-statement.js";

describe("bindStatement", () => {
  it("numbers templates after the author's params on PostgreSQL", () => {
    const statement = bindStatement(
      { strings: ["select $1, ", ", $2, ", ";"], values: ["a", 2] },
      ["p1", "p2"],
      "postgres",
    );
    expect(statement).toEqual({
      text: "select $1, $3, $2, $4",
      values: ["p1", "p2", "a", 2],
    });
  });

  it("orders values as the placeholders stand on MySQL", () => {
    const statement = bindStatement(
      { strings: ["select ?, ", ", ?, ", ""], values: ["t1", "t2"] },
      ["p1", "p2"],
      "mysql",
    );
    expect(statement).toEqual({
      text: "select ?, ?, ?, ?",
      values: ["p1", "t1", "p2", "t2"],
    });
  });

  it("refuses placeholders without values", () => {
    expect(() =>
      bindStatement({ strings: ["select $2"], values: [] }, ["a"], "postgres"),
    ).toThrow("$2 has no value: config.params has 1");
    expect(() =>
      bindStatement({ strings: ["select ?"], values: [] }, [], "mysql"),
    ).toThrow("writes 1 ? placeholder(s) but config.params has 0 value(s)");
  });

  it("never puts a value into the text", () => {
    const hostile = "'; drop table t; --";
    const statement = bindStatement(
      { strings: ["select * from t where a = ", ""], values: [hostile] },
      [],
      "postgres",
    );
    expect(statement.text).toBe("select * from t where a = $1");
    expect(statement.values).toEqual([hostile]);
  });
});
