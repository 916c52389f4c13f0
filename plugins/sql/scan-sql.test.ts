import { describe, expect, it } from "vitest";
import { scanSql } from "./scan-sql.js";

describe("scanSql", () => {
  it("finds the $n a PostgreSQL author wrote, outside quotes", () => {
    const scan = scanSql(
      ["select $1, '$2', \"$3\", $$ $4 $$, $q$ $5 $q$, a$6 -- $7\n, $8"],
      "postgres",
    );
    expect(scan.written.map((p) => p.number)).toEqual([1, 8]);
  });

  it("finds each ? a MySQL author wrote, outside quotes", () => {
    const text = "select ?, '?', \"?\", `?`, 'it\\'s ?' # ?\n, ? -- ?\n/* ? */";
    const scan = scanSql([text], "mysql");
    expect(scan.written.map((p) => p.offset)).toEqual([
      text.indexOf("?"),
      text.indexOf(", ? --") + 2,
    ]);
  });

  it("refuses a template inside a string, name or comment", () => {
    const cases: [string[], "postgres" | "mysql", RegExp][] = [
      [["select '", "'"], "postgres", /inside a string/],
      [['select "', '"'], "postgres", /inside a name/],
      [["select $$ ", " $$"], "postgres", /dollar-quoted/],
      [["select 1 -- ", ""], "postgres", /inside a comment/],
      [["select /* /* */ ", " */"], "postgres", /inside a comment/],
      [["select E'\\'", "'"], "postgres", /inside a string/],
      [["select `", "`"], "mysql", /inside a name/],
      [['select "', '"'], "mysql", /inside a string/],
      [["select 'a\\'", "'"], "mysql", /inside a string/],
      [["select 1 # ", ""], "mysql", /inside a comment/],
    ];
    for (const [chunks, dialect, problem] of cases) {
      expect(() => scanSql(chunks, dialect), chunks.join("${}")).toThrow(
        problem,
      );
    }
  });

  it("knows where quotes end", () => {
    // Doubled quotes, a standard string's backslash, a nested comment.
    expect(() =>
      scanSql(["select 'it''s', '\\', /* /* */ */ ", ""], "postgres"),
    ).not.toThrow();
    expect(() =>
      scanSql(["select 'it''s', 'a\\'b', /* ", " */"], "mysql"),
    ).toThrow(/comment/);
    // In MySQL `--` needs a space to start a comment.
    expect(() => scanSql(["select 1 --", ""], "mysql")).not.toThrow();
  });

  it("refuses a template glued to a name or number", () => {
    expect(() => scanSql(["select a", ""], "postgres")).toThrow(/touches/);
    expect(() => scanSql(["select ", "5"], "postgres")).toThrow(/touches/);
    expect(() => scanSql(["select ", "x"], "mysql")).toThrow(/touches/);
    expect(() => scanSql(["select (", ")::int"], "postgres")).not.toThrow();
  });

  it("refuses a second statement, also after a template", () => {
    expect(() => scanSql(["select 1; select 2"], "postgres")).toThrow(
      /more than one statement/,
    );
    expect(() => scanSql(["select 1;", ""], "mysql")).toThrow(
      /template #1 follows/,
    );
    expect(() =>
      scanSql(["select ';' ; -- done\n;"], "postgres"),
    ).not.toThrow();
  });

  it("gives the closing ; to cut", () => {
    expect(scanSql(["select 1; "], "postgres").terminator).toBe(8);
    expect(scanSql(["select 1"], "mysql").terminator).toBeUndefined();
  });

  it("refuses a query with no statement", () => {
    expect(() => scanSql([" -- nothing\n ; "], "postgres")).toThrow(
      /no statement/,
    );
  });
});
