import { describe, expect, it } from "vitest";
import { VolumeError, volumeMounts } from "./volume-mounts.js";

describe("volumeMounts", () => {
  it("binds absolute and work-directory paths, and names volumes", () => {
    const mounts = volumeMounts(
      [
        "/srv/data:/data:ro",
        "./in:/in",
        "../shared:/shared:rw",
        "cache:/cache",
        { source: "/etc/x", target: "/x", read_only: true },
        { source: "named.v-1", target: "/v" },
      ],
      "/work/attempt",
    );
    expect(mounts).toEqual([
      { Type: "bind", Source: "/srv/data", Target: "/data", ReadOnly: true },
      {
        Type: "bind",
        Source: "/work/attempt/in",
        Target: "/in",
        ReadOnly: false,
      },
      {
        Type: "bind",
        Source: "/work/shared",
        Target: "/shared",
        ReadOnly: false,
      },
      { Type: "volume", Source: "cache", Target: "/cache", ReadOnly: false },
      { Type: "bind", Source: "/etc/x", Target: "/x", ReadOnly: true },
      { Type: "volume", Source: "named.v-1", Target: "/v", ReadOnly: false },
    ]);
  });

  it("names the entry that is wrong", () => {
    const cases: [unknown, RegExp][] = [
      ["nocolon", /config\.volumes\[1\]: "nocolon" is not "source:target"/],
      ["/a:/b:rx", /config\.volumes\[1\]: .* is not/],
      ["/a:/b:ro:x", /config\.volumes\[1\]/],
      ["/a:rel", /config\.volumes\[1\]: target "rel" must be an absolute/],
      ["bad name!:/x", /config\.volumes\[1\]: source "bad name!" is neither/],
      [{ source: "/a", target: "b" }, /target "b"/],
    ];
    for (const [entry, message] of cases) {
      const volumes = ["/ok:/ok", entry] as Parameters<typeof volumeMounts>[0];
      expect(() => volumeMounts(volumes, "/w"), String(entry)).toThrow(message);
      expect(() => volumeMounts(volumes, "/w")).toThrow(VolumeError);
    }
  });
});
