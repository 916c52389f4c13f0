import type {
  ConfigSchema,
  JsonObject,
  JsonValue,
} from "../../plugin-sdk/index.js";

/** The config of a `python` task, after templates are rendered. */
export interface PythonConfig {
  script?: string;
  code?: string;
  function?: string;
  args?: JsonValue[];
  kwargs?: JsonObject;
  python?: string;
  python_version?: string;
  requirements?: string[] | string;
  find_links?: string[];
}

/** The JSON Schema of {@link PythonConfig}. */
export const pythonConfigSchema: ConfigSchema = {
  type: "object",
  description:
    "Calls a Python function, or runs inline Python code, and records " +
    "the result as JSON.",
  properties: {
    script: {
      type: "string",
      minLength: 1,
      description:
        "Path of a .py file to import as a module: absolute, or relative " +
        "to the agent's working directory. Its directory goes on sys.path.",
    },
    code: {
      type: "string",
      minLength: 1,
      description:
        "Inline Python source, run as a module. Without `function`, the " +
        "output is the value the code assigns to a variable named " +
        "`result` (null when it assigns none).",
    },
    function: {
      type: "string",
      pattern: "^[A-Za-z_][A-Za-z0-9_]*$",
      description:
        "Name of a function of the script or code to call with args and " +
        "kwargs; its return value (awaited if a coroutine) is the output. " +
        "Without it the output is the module's variable `result`.",
    },
    args: {
      type: "array",
      description: "Positional arguments of the function.",
    },
    kwargs: {
      type: "object",
      description: "Keyword arguments of the function.",
    },
    python: {
      type: "string",
      minLength: 1,
      description:
        "The interpreter, a path or a name looked up on PATH. Default " +
        "python3. Not together with python_version.",
    },
    python_version: {
      type: "string",
      pattern: "^3\\.\\d+$",
      description:
        'Picks interpreter python3.N from PATH, for example "3.11". ' +
        "Agents advertise the versions they have as labels python_versions " +
        'and python3.N: "true"; the task only goes to an agent that has it.',
    },
    requirements: {
      anyOf: [
        {
          type: "array",
          minItems: 1,
          items: { type: "string", minLength: 1, pattern: "^[^-\\s]" },
        },
        { type: "string", minLength: 1 },
      ],
      description:
        'Packages to install first: a list of requirements ("requests>=2", ' +
        '"numpy==1.26.4"), or the path of a requirements file on the agent. ' +
        "They go into a virtualenv cached per requirement set and " +
        "interpreter, built once and reused by later attempts.",
    },
    find_links: {
      type: "array",
      minItems: 1,
      items: { type: "string", minLength: 1 },
      description:
        "Directories (or URLs) of wheels and source archives to install " +
        "the requirements from, instead of a package index " +
        "(pip --no-index --find-links).",
    },
  },
  oneOf: [{ required: ["script"] }, { required: ["code"] }],
  not: { required: ["python", "python_version"] },
  dependentRequired: {
    args: ["function"],
    kwargs: ["function"],
    find_links: ["requirements"],
  },
  additionalProperties: false,
};
