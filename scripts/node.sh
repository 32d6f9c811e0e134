#!/usr/bin/env bash
# Puts a Node.js that Vigil supports (>= 22; 24 LTS is what it is developed and tested on) first on
# PATH when the machine's own node is older or missing. The Node 24 binary comes from the npm
# registry's `node-linux-<arch>@24` package (the official build, with its headers), unpacked once
# into .cache/node/ beside this checkout. Nothing is installed system-wide.
#
#   source scripts/node.sh        # this shell: node, npm and npx are Node 24's when they need to be
#   scripts/node.sh npm ci        # run one command with it
#
# VIGIL_NODE_MAJOR (default 24) picks the major fetched; VIGIL_NODE_FORCE=1 fetches even when the
# machine's node is recent enough.
_vigil_node_setup() {
  local want="${VIGIL_NODE_MAJOR:-24}" min=22 have=0 root arch dir tmp tgz
  if command -v node >/dev/null 2>&1; then
    have="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  fi
  if [ "${VIGIL_NODE_FORCE:-0}" != 1 ] && [ "$have" -ge "$min" ]; then
    return 0
  fi
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "scripts/node.sh: no Node package for $(uname -m); install Node >= $min yourself" >&2; return 1 ;;
  esac
  dir="$root/.cache/node/linux-$arch-$want"
  if [ ! -x "$dir/bin/node" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "scripts/node.sh: npm is needed to fetch node-linux-$arch@$want from the npm registry" >&2
      return 1
    fi
    echo "scripts/node.sh: node ${have:+v$have }is older than $min; fetching node-linux-$arch@$want from the npm registry" >&2
    tmp="$(mktemp -d)"
    if ! tgz="$(cd "$tmp" && npm pack --silent "node-linux-$arch@$want" 2>/dev/null | tail -n 1)" || [ ! -f "$tmp/$tgz" ]; then
      echo "scripts/node.sh: npm pack node-linux-$arch@$want failed" >&2
      rm -rf "$tmp"
      return 1
    fi
    mkdir -p "$tmp/x" && tar -xzf "$tmp/$tgz" -C "$tmp/x"
    rm -rf "$dir" && mkdir -p "$(dirname "$dir")" && mv "$tmp/x/package" "$dir"
    rm -rf "$tmp"
    # The package's bin/node is the binary; npm and npx come with the Node distribution only when
    # the package carries lib/node_modules/npm. Otherwise the machine's npm runs under this node.
  fi
  export PATH="$dir/bin:$PATH"
  # node-gyp builds addons offline against the package's headers when an addon must compile.
  export npm_config_nodedir="$dir"
  echo "scripts/node.sh: using node $("$dir/bin/node" --version) from $dir" >&2
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  _vigil_node_setup
else
  set -euo pipefail
  _vigil_node_setup
  if [ $# -gt 0 ]; then exec "$@"; fi
fi
