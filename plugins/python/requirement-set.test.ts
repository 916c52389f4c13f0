import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  loadRequirementSet,
  normalizeRequirement,
  requirementLines,
} from "./requirement-set.js";

describe("normalizeRequirement", () => {
  it("normalizes the name and the space around operators", () => {
    expect(normalizeRequirement("Requests >= 2.0 , <3")).toBe(
      "requests>=2.0,<3",
    );
    expect(normalizeRequirement("zope.Interface[Extra ]==5")).toBe(
      "zope-interface[Extra]==5",
    );
    expect(
      normalizeRequirement(
        'numpy ; python_version <  "3.12"  and os_name=="nt"',
      ),
    ).toBe('numpy;python_version<"3.12" and os_name=="nt"');
  });

  it("keeps paths and URLs but for their white space", () => {
    expect(normalizeRequirement(" ./libs/My_Pkg ")).toBe("./libs/My_Pkg");
    expect(normalizeRequirement("pkg @ https://x.test/p.whl")).toBe(
      "pkg@https://x.test/p.whl",
    );
  });
});

describe("loadRequirementSet", () => {
  it("sorts and de-duplicates a list for the key, and installs it as given", async () => {
    const set = await loadRequirementSet(["b==1", "A", "a", " b == 1 "]);
    expect(set.normalized).toEqual(["a", "b==1"]);
    expect(set.pipArgs).toEqual(["b==1", "A", "a", "b == 1"]);
  });

  it("reads a file's logical lines in order, without comments", async () => {
    expect(
      requirementLines(
        "# head\n-c constraints.txt\nfoo \\\n  >=1  # why\n\nbar#egg\r\n",
      ),
    ).toEqual(["-c constraints.txt", "foo   >=1", "bar#egg"]);
    const dir = await mkdtemp(join(tmpdir(), "deerflow-req-"));
    try {
      const file = join(dir, "requirements.txt");
      await writeFile(file, "Foo==1\n");
      expect(await loadRequirementSet(file)).toEqual({
        pipArgs: ["-r", file],
        normalized: ["foo==1"],
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("names a bad entry", async () => {
    await expect(loadRequirementSet(["ok", "  "])).rejects.toThrow(
      /^config\.requirements\[1\]: must be a non-empty string$/,
    );
    await expect(loadRequirementSet(["-e ."])).rejects.toThrow(
      /^config\.requirements\[0\]: is a pip option/,
    );
  });
});
