import { execFile } from "node:child_process";

/** Which Python an interpreter name runs, as far as a virtualenv cares. */
export interface InterpreterIdentity {
  /** "CPython 3.11.7": implementation and full version. */
  version: string;
  /** The real executable (`sys.executable`), past any shim. */
  executable: string;
}

/** Why an interpreter could not be asked who it is. */
export class InterpreterError extends Error {
  override readonly name = "InterpreterError";
  /** Node's spawn code (ENOENT) or "failed". */
  readonly code: string;

  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

const SCRIPT =
  "import platform, sys; " +
  "print(platform.python_implementation() + ' ' + platform.python_version()); " +
  "print(sys.executable)";

/** A cold interpreter start on a busy host can be slow. */
const TIMEOUT_MS = 60_000;

/**
 * Runs the interpreter once to learn its implementation, full version and
 * real executable, which (with the requirements) key its virtualenvs: a
 * venv made from one Python must not be handed to another.
 */
export function interpreterIdentity(
  interpreter: string,
  env: NodeJS.ProcessEnv,
): Promise<InterpreterIdentity> {
  return new Promise((resolve, reject) => {
    execFile(
      interpreter,
      ["-c", SCRIPT],
      { env, timeout: TIMEOUT_MS },
      (error, stdout, stderr) => {
        const [version, executable] = stdout.trim().split("\n");
        if (!error && version && executable) {
          resolve({ version, executable });
          return;
        }
        const code = (error as NodeJS.ErrnoException | null)?.code;
        reject(
          new InterpreterError(
            `python interpreter "${interpreter}" ` +
              (typeof code === "string"
                ? `not found (${code})`
                : `did not run: ${(stderr || String(error)).trim()}`),
            typeof code === "string" ? code : "failed",
          ),
        );
      },
    );
  });
}
