#!/usr/bin/env bash
# Installs Tether for the action's steps and outputs the command to run it (`bin`).
# VERSION empty: the action's own checkout ($ACTION_PATH), its runtime dependencies installed
# once with npm ci. Otherwise an npm package spec (a tarball URL, a git URL or a path),
# unpacked into $RUNNER_TEMP/tether-package with its runtime dependencies.
set -euo pipefail
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 24 ]; then
  echo "::error title=tether::Tether needs Node.js 24 or newer, found $(node --version) (leave setup-node: true)"
  exit 2
fi
if [ -n "${VERSION:-}" ]; then
  # Unpacked outside node_modules: Node strips TypeScript types only outside node_modules.
  dir="${RUNNER_TEMP:?}/tether-package"
  rm -rf "$dir" && mkdir -p "$dir"
  tarball="$(cd "$dir" && npm pack --silent --loglevel=error "$VERSION" | tail -n 1)"
  tar -xzf "$dir/$tarball" -C "$dir"
  (cd "$dir/package" && npm install --omit=dev --no-audit --no-fund --no-package-lock --loglevel=error)
  bin="$dir/package/bin/tether.js"
else
  if [ ! -f "$ACTION_PATH/node_modules/commander/package.json" ]; then
    (cd "$ACTION_PATH" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
  fi
  bin="$ACTION_PATH/bin/tether.js"
fi
echo "bin=$bin" >> "$GITHUB_OUTPUT"
echo "tether $(node "$bin" --version 2>/dev/null || echo '(version unknown)') at $bin"
