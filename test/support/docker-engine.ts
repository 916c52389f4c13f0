/**
 * A private Docker engine for tests that need the real thing. No engine
 * runs on these machines by default and no registry is reachable, so this
 * installs Debian's docker.io when `dockerd` is missing, starts a dockerd
 * of its own (no iptables, no bridge; its data, exec root, pid file and
 * socket in a temporary directory, so it never meets another engine),
 * and makes an image locally with `docker import` of a busybox root
 * filesystem. `stop()` ends dockerd and removes everything it made.
 *
 * Nothing here talks to the host's default engine socket: every client
 * is pointed at the private socket explicitly. Installing is the one
 * step that leaves the machine: it uses apt-get, Debian's own client.
 *
 * When anything cannot work (apt-get fails, dockerd dies or never
 * answers) `startDockerEngine` throws with the reason and the tail of the
 * relevant log, so the suite fails loudly instead of skipping.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import {
  copyFile,
  mkdir,
  mkdtemp,
  open,
  readFile,
  rm,
  symlink,
} from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";

const run = promisify(execFile);

/** The image every test engine has: busybox as /bin/*, PATH=/bin. */
export const TEST_IMAGE = "deerflow-test/busybox:1";

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const INSTALL_TIMEOUT_MS = 15 * 60_000;
const BUSYBOX_PATHS = ["/usr/bin/busybox", "/bin/busybox"];
const DOCKERD_PATHS = ["/usr/sbin/dockerd", "/usr/bin/dockerd"];

/** A running private engine. */
export interface DockerEngine {
  /** `unix://` address of the private socket, for `docker_host`. */
  dockerHost: string;
  socketPath: string;
  /** A client of this engine. */
  docker: Docker;
  /** {@link TEST_IMAGE}, present on the engine. */
  image: string;
  /** The uncompressed root filesystem tarball the image came from. */
  rootfsTar: string;
  /** A directory for the test's own files, removed by `stop()`. */
  scratchDir: string;
  /** Stops dockerd (and its containerd) and removes every directory. */
  stop(): Promise<void>;
}

/** Starts a private engine with {@link TEST_IMAGE}; see the module doc. */
export async function startDockerEngine(): Promise<DockerEngine> {
  await ensureInstalled();
  // Short: a unix socket path must stay under 108 bytes.
  const root = await mkdtemp("/tmp/dfdk-");
  let daemon: ChildProcess | undefined;
  try {
    const scratchDir = join(root, "scratch");
    await mkdir(scratchDir);
    const socketPath = join(root, "docker.sock");
    daemon = await spawnDockerd(root, socketPath);
    const docker = new Docker({ socketPath, host: undefined });
    await waitReady(docker, daemon, join(root, "dockerd.log"));
    const rootfsTar = await buildRootfsTar(root);
    await importImage(socketPath, rootfsTar);
    const stopping = daemon;
    return {
      dockerHost: `unix://${socketPath}`,
      socketPath,
      docker,
      image: TEST_IMAGE,
      rootfsTar,
      scratchDir,
      stop: () => stopEngine(stopping, root),
    };
  } catch (error) {
    await stopEngine(daemon, root);
    throw error;
  }
}

async function ensureInstalled(): Promise<void> {
  const missing = [];
  if (!DOCKERD_PATHS.some((path) => existsSync(path))) {
    missing.push("docker.io");
  }
  if (!BUSYBOX_PATHS.some((path) => existsSync(path))) {
    missing.push("busybox-static");
  }
  if (missing.length === 0) return;
  const env = {
    ...process.env,
    DEBIAN_FRONTEND: "noninteractive",
  };
  const apt = (args: string[]) =>
    run("apt-get", ["-q", "-o", "DPkg::Lock::Timeout=600", ...args], {
      env,
      timeout: INSTALL_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
    });
  try {
    await apt(["update"]);
    await apt(["install", "-y", ...missing]);
  } catch (error) {
    const failed = error as { stderr?: string; stdout?: string };
    throw new Error(
      `docker test engine: "apt-get install -y ${missing.join(" ")}" ` +
        `failed, so the docker tests cannot run: ${String(error)}\n` +
        tail(`${failed.stdout ?? ""}\n${failed.stderr ?? ""}`),
    );
  }
  const dockerd = DOCKERD_PATHS.some((path) => existsSync(path));
  const busybox = BUSYBOX_PATHS.some((path) => existsSync(path));
  if (!dockerd || !busybox) {
    throw new Error(
      "docker test engine: apt-get succeeded but dockerd or busybox is " +
        "still missing",
    );
  }
}

async function spawnDockerd(
  root: string,
  socketPath: string,
): Promise<ChildProcess> {
  const log = await open(join(root, "dockerd.log"), "w");
  const dockerd = DOCKERD_PATHS.find((path) => existsSync(path)) ?? "dockerd";
  // No proxy: the engine must not send anything anywhere.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !/^(https?|no|all)_proxy$|^DOCKER_/i.test(key),
    ),
  );
  try {
    const child = spawn(
      dockerd,
      [
        "--iptables=false",
        "--ip6tables=false",
        "--bridge=none",
        "--data-root",
        join(root, "data"),
        "--exec-root",
        join(root, "exec"),
        "--pidfile",
        join(root, "dockerd.pid"),
        "-H",
        `unix://${socketPath}`,
      ],
      { env, stdio: ["ignore", log.fd, log.fd] },
    );
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    return child;
  } finally {
    await log.close();
  }
}

async function waitReady(
  docker: Docker,
  daemon: ChildProcess,
  logPath: string,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    if (daemon.exitCode !== null || daemon.signalCode !== null) {
      const log = await readFile(logPath, "utf8").catch(() => "");
      throw new Error(
        `docker test engine: dockerd exited (${daemon.exitCode ?? daemon.signalCode}) ` +
          `before it answered:\n${tail(log)}`,
      );
    }
    try {
      await docker.ping();
      return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const log = await readFile(logPath, "utf8").catch(() => "");
  throw new Error(
    `docker test engine: dockerd did not answer within ` +
      `${READY_TIMEOUT_MS} ms (${String(last)}):\n${tail(log)}`,
  );
}

/** A tarball of / with busybox and a link per applet. */
async function buildRootfsTar(root: string): Promise<string> {
  const rootfs = join(root, "rootfs");
  for (const dir of ["bin", "etc", "tmp", "proc", "sys", "dev"]) {
    await mkdir(join(rootfs, dir), { recursive: true });
  }
  const busybox = BUSYBOX_PATHS.find((path) => existsSync(path)) ?? "";
  await copyFile(busybox, join(rootfs, "bin", "busybox"));
  const { stdout } = await run(busybox, ["--list"]);
  for (const applet of stdout.split("\n")) {
    if (applet === "" || applet === "busybox") continue;
    await symlink("busybox", join(rootfs, "bin", applet));
  }
  const tar = join(root, "rootfs.tar");
  await run("tar", ["-C", rootfs, "-cf", tar, "."]);
  return tar;
}

async function importImage(socketPath: string, tar: string): Promise<void> {
  await run("docker", [
    "-H",
    `unix://${socketPath}`,
    "import",
    "--change",
    "ENV PATH=/bin",
    "--change",
    'CMD ["/bin/sh"]',
    tar,
    TEST_IMAGE,
  ]);
}

/**
 * SIGTERM to dockerd (which stops its containers and its containerd),
 * SIGKILL after a bound; then any mount left under the root is unmounted
 * and the root removed.
 */
async function stopEngine(
  daemon: ChildProcess | undefined,
  root: string,
): Promise<void> {
  if (daemon !== undefined && daemon.exitCode === null) {
    const exited = new Promise((resolve) => daemon.once("exit", resolve));
    if (daemon.signalCode === null) {
      daemon.kill("SIGTERM");
      const timer = setTimeout(() => daemon.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  }
  await killLeftoverContainerd(root);
  await unmountUnder(root);
  await rm(root, { recursive: true, force: true });
}

async function killLeftoverContainerd(root: string): Promise<void> {
  const pidFile = join(root, "exec", "containerd", "containerd.pid");
  const pid = Number(await readFile(pidFile, "utf8").catch(() => ""));
  if (!Number.isInteger(pid) || pid <= 0) return;
  // Only a containerd of this engine: a stale pid may name another process.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(
    () => "",
  );
  if (!cmdline.includes(root)) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Gone already, as it should be.
  }
}

async function unmountUnder(root: string): Promise<void> {
  const mounts = await readFile("/proc/mounts", "utf8");
  const points = mounts
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .filter((point) => point === root || point.startsWith(`${root}/`))
    .reverse();
  for (const point of points) {
    await run("umount", ["-l", point]).catch(() => undefined);
  }
}

function tail(text: string, lines = 30): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}
