#!/usr/bin/env bash
# Fails when gen/ differs from what `buf generate` makes of proto/ now.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npx buf generate --output "$tmp"
if ! diff -r "$tmp/gen" gen >/dev/null; then
  diff -r "$tmp/gen" gen | head -n 40 >&2
  echo "gen/ is out of date: run npm run gen and commit the result" >&2
  exit 1
fi
