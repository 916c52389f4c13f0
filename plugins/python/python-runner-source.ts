/** The file name the runner is written under in the work directory. */
export const RUNNER_FILE = "deerflow_runner.py";

/**
 * The Python side of the python task type. It reads the call (what to
 * import or exec, which function, its arguments, where to write) from the
 * JSON file named by its first argument, and writes exactly one record to
 * the result file: {"result": value}, {"error": {...}}, {"not_json":
 * {...}} or {"missing_function": name}. The result goes to a file, not to
 * stdout, so that the task's prints reach its log untouched. It keeps to
 * what Python 3.7 has, so any current python3 on an agent can run it.
 */
export const PYTHON_RUNNER_SOURCE = `\
import asyncio
import importlib.util
import inspect
import json
import os
import sys
import traceback


def write_text(path, text):
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def type_name(kind):
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return kind.__module__ + "." + kind.__qualname__


def load(call):
    script = call.get("script")
    if script is not None:
        path = os.path.abspath(script)
        sys.argv = [path]
        sys.path.insert(0, os.path.dirname(path))
        spec = importlib.util.spec_from_file_location("deerflow_task", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["deerflow_task"] = module
        spec.loader.exec_module(module)
        return vars(module)
    sys.argv = ["-c"]
    sys.path.insert(0, "")
    namespace = {"__name__": "deerflow_task"}
    exec(compile(call["code"], "<inline code>", "exec"), namespace)
    return namespace


def run(call, namespace):
    value = namespace[call["function"]](
        *call.get("args", []), **call.get("kwargs", {})
    )
    if inspect.iscoroutine(value):
        value = asyncio.run(value)
    return value


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        call = json.load(handle)
    result_path = call["result_path"]
    # The runner's own directory is not the task's business.
    del sys.path[0]
    try:
        namespace = load(call)
        name = call.get("function")
        if name is not None and not callable(namespace.get(name)):
            write_text(result_path, json.dumps({"missing_function": name}))
            return 1
        value = run(call, namespace) if name else namespace.get("result")
    except BaseException as error:
        # The user's frames only: drop the runner's own outer ones.
        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next
        lines = traceback.format_exception(type(error), error, tb)
        sys.stderr.write("".join(lines))
        record = {
            "type": type_name(type(error)),
            "message": str(error),
            "traceback": "".join(lines),
        }
        write_text(result_path, json.dumps({"error": record}))
        return 1
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        record = {"type": type_name(type(value)), "message": str(error)}
        write_text(result_path, json.dumps({"not_json": record}))
        return 1
    write_text(result_path, '{"result": ' + text + "}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
`;
