#!/usr/bin/env bash
# Installs what the extension-host tests need (test/host/README.md): Debian's chromium,
# libkrb5-dev and ripgrep, and code-server in test/host/code-server. Idempotent: a second run
# installs nothing and takes about a second.
#
# Usage: bash .ci/host-setup.sh        (as root, or with apt-get already done)
set -euo pipefail
cd "$(dirname "$0")/.."

host_dir=test/host/code-server

# --- Debian packages, only those missing ------------------------------------------------------
missing=()
command -v chromium > /dev/null || missing+=(chromium)
dpkg -s libkrb5-dev > /dev/null 2>&1 || missing+=(libkrb5-dev) # headers for code-server's kerberos addon
command -v rg > /dev/null || missing+=(ripgrep)
if ((${#missing[@]})); then
  echo "host-setup: apt-get install ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

# --- code-server, skipped when node_modules already matches the lockfile ----------------------
# The stamp covers what the installed tree depends on: the manifest, the lockfile, and Node's
# version (code-server builds native addons against it).
stamp_file="$host_dir/node_modules/.host-setup-stamp"
stamp="$(cat "$host_dir/package.json" "$host_dir/package-lock.json" | sha256sum | cut -d' ' -f1) node-$(node --version)"
if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
  echo "host-setup: code-server is installed and matches $host_dir/package-lock.json"
  exit 0
fi

# code-server's postinstall runs `npm install` in lib/vscode, where @vscode/ripgrep's
# postinstall downloads rg from GitHub, which this network cannot reach. It first looks in
# $TMPDIR/vscode-ripgrep-cache-<its version>/ for the release tarball, so put Debian's rg
# there under that name. Version and name from @vscode/ripgrep 1.15.11 (lib/postinstall.js,
# lib/download.js), the one pinned by code-server 4.100.3's lib/vscode/npm-shrinkwrap.json.
case "$(uname -m)" in
  x86_64) rg_target=x86_64-unknown-linux-musl ;;
  aarch64) rg_target=aarch64-unknown-linux-musl ;;
  *) echo "host-setup: no ripgrep target known for $(uname -m)" >&2; exit 1 ;;
esac
rg_cache="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
rg_tarball="$rg_cache/ripgrep-v13.0.0-10-$rg_target.tar.gz"
if [[ ! -s "$rg_tarball" ]]; then
  staging="$(mktemp -d)"
  cp "$(command -v rg)" "$staging/rg"
  mkdir -p "$rg_cache"
  tar -czf "$rg_tarball.partial" -C "$staging" rg
  mv "$rg_tarball.partial" "$rg_tarball"
  rm -rf "$staging"
  echo "host-setup: ripgrep cache $rg_tarball from $(command -v rg)"
fi

echo "host-setup: npm ci in $host_dir (code-server 4.100.3, about 300 MB)"
# As root, code-server's postinstall refuses to run without unsafe-perm (it reads the variable
# itself; npm 11 only warns that it does not know it).
(
  cd "$host_dir"
  npm_config_unsafe_perm=true npm_config_yes=true npm_config_fund=false npm_config_audit=false \
    npm ci --no-progress
)

# The postinstall must have built the server's own dependencies; fail here rather than in a test.
vscode_modules="$host_dir/node_modules/code-server/lib/vscode/node_modules"
for required in "$vscode_modules/@vscode/ripgrep/bin/rg" "$vscode_modules/node-pty/build/Release/pty.node" \
  "$host_dir/node_modules/code-server/out/node/entry.js"; do
  [[ -e "$required" ]] || { echo "host-setup: $required is missing after npm ci" >&2; exit 1; }
done
echo "$stamp" > "$stamp_file"
echo "host-setup: done"
