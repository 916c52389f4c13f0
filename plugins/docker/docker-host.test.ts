import { describe, expect, it } from "vitest";
import {
  chooseDockerHost,
  DEFAULT_DOCKER_HOST,
  DockerHostError,
  dockerOptions,
} from "./docker-host.js";

describe("chooseDockerHost", () => {
  it("prefers the config, then the option, then DOCKER_HOST", () => {
    const env = { DOCKER_HOST: "unix:///env.sock" };
    expect(chooseDockerHost("unix:///c.sock", "unix:///o.sock", env)).toBe(
      "unix:///c.sock",
    );
    expect(chooseDockerHost(undefined, "unix:///o.sock", env)).toBe(
      "unix:///o.sock",
    );
    expect(chooseDockerHost(undefined, undefined, env)).toBe(
      "unix:///env.sock",
    );
    expect(chooseDockerHost(undefined, undefined, { DOCKER_HOST: "" })).toBe(
      DEFAULT_DOCKER_HOST,
    );
  });
});

describe("dockerOptions", () => {
  it("uses the socket of a unix address and unsets every TCP field", () => {
    const options = dockerOptions("unix:///tmp/x/docker.sock", {});
    expect(options).toMatchObject({
      socketPath: "/tmp/x/docker.sock",
      protocol: "http",
    });
    // Present and undefined, so docker-modem's own DOCKER_HOST reading
    // cannot slip a host in underneath.
    expect(Object.hasOwn(options, "host")).toBe(true);
    expect(options.host).toBeUndefined();
  });

  it("reads tcp, http and https addresses", () => {
    expect(dockerOptions("tcp://127.0.0.1:2375", {})).toMatchObject({
      host: "127.0.0.1",
      port: 2375,
      protocol: "http",
      socketPath: undefined,
    });
    expect(dockerOptions("tcp://[::1]:2375", {})).toMatchObject({
      host: "::1",
    });
    expect(dockerOptions("tcp://127.0.0.1", {})).toMatchObject({
      port: 2375,
      protocol: "http",
    });
    expect(dockerOptions("https://127.0.0.1", {})).toMatchObject({
      port: 2376,
      protocol: "https",
    });
    expect(dockerOptions("tcp://127.0.0.1:2376", {})).toMatchObject({
      protocol: "https",
    });
    expect(
      dockerOptions("tcp://127.0.0.1:9999", { DOCKER_TLS_VERIFY: "1" }),
    ).toMatchObject({ protocol: "https", port: 9999 });
  });

  it("refuses what it cannot connect to, saying what would work", () => {
    expect(() => dockerOptions("unix://relative.sock", {})).toThrow(
      /absolute socket path/,
    );
    expect(() => dockerOptions("ssh://me@127.0.0.1", {})).toThrow(
      /scheme ssh: is not supported/,
    );
    expect(() => dockerOptions("not an address", {})).toThrow(DockerHostError);
  });
});
