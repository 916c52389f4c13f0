#!/usr/bin/env python3
"""Starts a Deer Flow run from Python over gRPC, waits for it, prints it.

The run's definition is inline: one shell task. The stubs next to this
file are generated from proto/ by generate.sh.

    /usr/bin/python3 client.py --server http://127.0.0.1:7070
    /usr/bin/python3 client.py --command 'echo hi' --json

Exit status: 0 when the run succeeded, 1 when it failed or was
cancelled, 2 for any other error (bad flags, an unreachable server).
"""

import argparse
import json
import os
import sys
from urllib.parse import urlparse

# The generated stubs live beside this file, as the package deerflow.v1.
# No __pycache__ is written into the example's folder.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402
from google.protobuf import json_format, struct_pb2  # noqa: E402

from deerflow.v1 import run_pb2, run_pb2_grpc, workflow_pb2  # noqa: E402

DEFAULT_COMMAND = 'echo "hello from python"; echo "answer=42" >> "$DEERFLOW_OUTPUT"'
UNARY_TIMEOUT_S = 30.0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--server",
        default=os.environ.get("DEERFLOW_SERVER", "http://127.0.0.1:7070"),
        help="the control plane, http:// or https:// (default: "
        "$DEERFLOW_SERVER or http://127.0.0.1:7070)",
    )
    parser.add_argument(
        "--command", default=DEFAULT_COMMAND, help="the shell task's command"
    )
    parser.add_argument("--token", help="a bearer token, if the server wants one")
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds to wait for the run to end (default 300)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print only the final run, as JSON"
    )
    return parser.parse_args(argv)


def open_channel(server):
    """A channel to the server's host:port; TLS for https:// URLs."""
    url = urlparse(server)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(f"--server: {server!r} is not an http:// or https:// URL")
    port = url.port or (443 if url.scheme == "https" else 80)
    target = f"{url.hostname}:{port}"
    if url.scheme == "https":
        return grpc.secure_channel(target, grpc.ssl_channel_credentials())
    return grpc.insecure_channel(target)


def inline_definition(command):
    """The workflow as a google.protobuf.Struct, as SPEC section 3 writes it."""
    document = struct_pb2.Struct()
    document.update(
        {
            "name": "python-client",
            "tasks": [{"id": "hello", "type": "shell", "command": command}],
        }
    )
    return workflow_pb2.Definition(document=document)


def follow(runs, run_id, metadata, timeout, quiet):
    """Prints the run's events; WatchRun ends when the run has ended."""
    request = run_pb2.WatchRunRequest(run_id=run_id)
    for response in runs.WatchRun(request, metadata=metadata, timeout=timeout):
        event = response.event
        kind = event.WhichOneof("kind")
        if quiet:
            continue
        if kind == "task_state_changed":
            change = event.task_state_changed
            state = run_pb2.TaskState.Name(change.state)
            print(f"  task {change.task_id}: {state}", flush=True)
        elif kind == "run_state_changed":
            state = run_pb2.RunState.Name(event.run_state_changed.state)
            print(f"  run: {state}", flush=True)


def plain_numbers(value):
    """Struct numbers are doubles; shows 42.0 as 42, as JSON would."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: plain_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_numbers(item) for item in value]
    return value


def report(run):
    """Prints each task's state and output."""
    print(f"run {run.id}: {run_pb2.RunState.Name(run.state)} {run.error}".rstrip())
    for task in run.tasks:
        output = plain_numbers(json_format.MessageToDict(task.output))
        state = run_pb2.TaskState.Name(task.state)
        print(f"  {task.id}: {state} {json.dumps(output, sort_keys=True)}")


def main(argv):
    args = parse_args(argv)
    metadata = [("authorization", f"Bearer {args.token}")] if args.token else []
    try:
        channel = open_channel(args.server)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    with channel:
        runs = run_pb2_grpc.RunServiceStub(channel)
        try:
            started = runs.StartRun(
                run_pb2.StartRunRequest(definition=inline_definition(args.command)),
                metadata=metadata,
                timeout=UNARY_TIMEOUT_S,
            )
            run_id = started.run.id
            if not args.json:
                print(f"started run {run_id}", flush=True)
            follow(runs, run_id, metadata, args.timeout, args.json)
            run = runs.GetRun(
                run_pb2.GetRunRequest(run_id=run_id),
                metadata=metadata,
                timeout=UNARY_TIMEOUT_S,
            ).run
        except grpc.RpcError as error:
            print(f"error: {error.code().name}: {error.details()}", file=sys.stderr)
            return 2
    if args.json:
        print(json_format.MessageToJson(run))
    else:
        report(run)
    return 0 if run.state == run_pb2.RUN_STATE_SUCCESS else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
