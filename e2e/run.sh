#!/usr/bin/env bash
# End-to-end tests with real clients and servers (the official MCP Python
# SDK, @modelcontextprotocol/server-everything, @cloudflare/codemode) against
# a built `isola` binary. Installs what it needs (a venv from
# requirements.txt, each suite's package.json), then runs every
# `*/test_*.py` with unittest.
#
#   ISOLA_BIN=target/debug/isola bash e2e/run.sh [unittest args, e.g. -k approval]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${ISOLA_BIN:-$here/../target/debug/isola}"
[[ "$bin" = /* ]] || bin="$PWD/$bin"
[ -x "$bin" ] || { echo "e2e: no isola binary at $bin (cargo build -p isola-cli)"; exit 2; }
export ISOLA_BIN="$bin"

if [ ! -x "$here/.venv/bin/python" ]; then
  python3 -m venv "$here/.venv" || {
    # Debian's python3 ships venv separately.
    apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv "$here/.venv"
  }
fi
command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
"$here/.venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
for manifest in "$here"/*/package.json; do
  dir="$(dirname "$manifest")"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
done

cd "$here"
exec "$here/.venv/bin/python" -m unittest discover -s . -p 'test_*.py' -t . -v "$@"
