import { describe, expect, it } from "vitest";
import { parseConnectionTarget, redact } from "./connection-target.js";

describe("parseConnectionTarget", () => {
  it("reads a PostgreSQL URL, multi-host included", () => {
    const target = parseConnectionTarget(
      "postgresql://u%40x:p%3Aw@h1:5432,h2:5433/db%2F1?sslmode=require",
    );
    expect(target).toMatchObject({
      dialect: "postgres",
      hosts: "h1:5432,h2:5433",
      host: "h1",
      port: 5432,
      user: "u@x",
      password: "p:w",
      database: "db/1",
    });
    expect(target.secrets).toEqual(["p%3Aw", "p:w"]);
  });

  it("reads a MySQL URL with its few options", () => {
    const target = parseConnectionTarget(
      "mariadb://root@[::1]:3307/app?ssl=true&charset=utf8mb4",
    );
    expect(target).toMatchObject({
      dialect: "mysql",
      host: "::1",
      port: 3307,
      mysqlTls: "verify",
      mysqlCharset: "utf8mb4",
    });
  });

  it("refuses what it cannot use, without echoing the URL", () => {
    const cases: [string, RegExp][] = [
      ["http://u:secret@h/db", /scheme "http" is not supported/],
      ["u:secret@h/db", /is not a URL/],
      ["mysql://u:secret@h/db?multipleStatements=true", /"multipleStatements"/],
      ["mysql://u:secret@a,b/db", /one host/],
      ["mysql://u:secret@/db", /needs a host/],
      ["postgres://u:secret@h:99999/db", /port 99999/],
      ["postgres://u:%zz@h/db", /password has a malformed/],
    ];
    for (const [url, problem] of cases) {
      let message = "";
      try {
        parseConnectionTarget(url);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, url).toMatch(problem);
      expect(message).not.toContain("secret");
    }
  });
});

describe("redact", () => {
  it("cuts every secret, longest first", () => {
    expect(redact("a pass and a password", ["pass", "password"])).toBe(
      "a *** and a ***",
    );
  });
});
