import { execFile } from "node:child_process";

/** One GPU of the host, addressed by its index. */
export interface Gpu {
  index: number;
  /** Normalized model name, for example "nvidia-h100-80gb-hbm3". */
  type: string;
  memoryBytes: number;
}

/** Finds the host's GPUs. */
export type GpuProbe = () => Promise<Gpu[]>;

const QUERY = [
  "--query-gpu=index,name,memory.total",
  "--format=csv,noheader,nounits",
];
const MIB = 1024 * 1024;
const PROBE_TIMEOUT_MS = 15_000;

/**
 * Asks nvidia-smi for the host's GPUs. A host without nvidia-smi has none;
 * any other failure (a broken driver) is thrown for the caller to report.
 */
export const nvidiaSmiGpuProbe: GpuProbe = () =>
  new Promise((resolve, reject) => {
    execFile(
      "nvidia-smi",
      QUERY,
      { timeout: PROBE_TIMEOUT_MS, windowsHide: true },
      (error, stdout) => {
        if (error === null) {
          // Thrown here, it would end the agent: no promise is around it.
          try {
            resolve(parseNvidiaSmiCsv(stdout));
          } catch (parseError) {
            reject(parseError);
          }
        } else if ((error as NodeJS.ErrnoException).code === "ENOENT") {
          resolve([]);
        } else {
          reject(new Error("nvidia-smi failed", { cause: error }));
        }
      },
    );
  });

/**
 * Parses `nvidia-smi --query-gpu=index,name,memory.total
 * --format=csv,noheader,nounits`: one GPU a line, memory in MiB. Lines
 * that are no GPU (a driver's "WARNING: infoROM is corrupted") are passed
 * over; when no line is one, the first is named in the error.
 */
export function parseNvidiaSmiCsv(text: string): Gpu[] {
  const gpus: Gpu[] = [];
  let unreadable: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const cells = line.split(",").map((cell) => cell.trim());
    const [index, name, memoryMib] = cells;
    const parsedIndex = Number(index);
    if (cells.length !== 3 || index === "" || !Number.isInteger(parsedIndex)) {
      unreadable ??= line;
      continue;
    }
    const mib = Number(memoryMib);
    gpus.push({
      index: parsedIndex,
      type: normalizeGpuType(name ?? ""),
      // "[N/A]" on some virtual GPUs: unknown memory is recorded as 0.
      memoryBytes: Number.isFinite(mib) ? Math.round(mib * MIB) : 0,
    });
  }
  if (gpus.length === 0 && unreadable !== undefined) {
    throw new Error(`nvidia-smi: unexpected line "${unreadable}"`);
  }
  return gpus;
}

/**
 * Turns a driver's model name into a label value: lower case, runs of
 * anything but letters and digits become one "-". "NVIDIA H100 80GB HBM3"
 * becomes "nvidia-h100-80gb-hbm3".
 */
export function normalizeGpuType(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}
