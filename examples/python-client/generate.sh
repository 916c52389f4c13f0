#!/usr/bin/env bash
# Regenerates the Python stubs in this folder (deerflow/v1/*_pb2*.py)
# from proto/deerflow/v1, with Debian's protoc (protobuf-compiler 3.21)
# and gRPC's Python plugin (protobuf-compiler-grpc 1.51), the versions of
# the python3-protobuf and python3-grpcio they run against:
#   apt-get install -y protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
# (Debian's python3-grpc-tools bundles protoc 3.5, which cannot read the
# proto3 `optional` fields of run.proto.) PROTOC and GRPC_PYTHON_PLUGIN
# override the tools. With a directory argument, writes the stubs there
# instead; the tests use it to check the committed stubs match proto/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
protoc=${PROTOC:-protoc}
plugin=${GRPC_PYTHON_PLUGIN:-grpc_python_plugin}
out=$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)
for tool in "$protoc" "$plugin"; do
  if ! command -v "$tool" >/dev/null; then
    echo "generate.sh: $tool not found; install protobuf-compiler" \
      "and protobuf-compiler-grpc" >&2
    exit 1
  fi
done
if ! "$protoc" -I "$root/proto" --descriptor_set_out=/dev/null \
  google/protobuf/struct.proto 2>/dev/null; then
  echo "generate.sh: $protoc cannot find google/protobuf/struct.proto;" \
    "install libprotobuf-dev" >&2
  exit 1
fi
rm -rf "$out/deerflow"
# Relative paths, so the stubs name their files "deerflow/v1/x.proto".
cd "$root/proto"
"$protoc" -I . --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$(command -v "$plugin")" \
  deerflow/v1/*.proto
touch "$out/deerflow/__init__.py" "$out/deerflow/v1/__init__.py"
