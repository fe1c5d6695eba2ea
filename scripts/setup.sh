#!/usr/bin/env bash
# netwho's one entry point for a fresh machine: installs what is missing, then builds and runs.
#
#   bash scripts/setup.sh start   # set up, build, start the main job: netwho watch (extra args go to it)
#   bash scripts/setup.sh test    # set up, build, run lint, typecheck and every test
#   bash scripts/setup.sh deps    # only set up (system packages, pnpm, node_modules)
#
# Idempotent: every step checks before it acts, so a second run installs nothing.
# Needs root or sudo only when a Debian package is missing.
set -euo pipefail

mode=${1:-start}
shift || true
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

log() { printf '\033[1m[netwho setup]\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $* (install sudo or run as root)"; fi
}

# --- System packages -------------------------------------------------------------------------
# libpcap-dev + a C++ toolchain build `cap`; the test tools come only with `test` (tmux drives the
# interactive CLI view, chromium the web dashboard tests, wine the Windows backend of @netwho/listeners,
# prometheus (with curl to ask it) the fleet test).
base_packages=(libpcap-dev g++ make python3 iproute2)
test_packages=(tcpdump tshark procps tmux chromium wine wine64 prometheus curl)

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$p"
  done
}

install_packages() {
  local missing
  mapfile -t missing < <(missing_packages "$@")
  [[ ${#missing[@]} -eq 0 ]] && return 0
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get: install them with your package manager"
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- Node and pnpm ---------------------------------------------------------------------------
check_node() {
  command -v node >/dev/null || die "Node.js 20.19+ is required (https://nodejs.org or Debian's nodejs)"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)' ||
    die "Node.js $(node -v) is too old: netwho needs 20.19 or newer"
}

pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
PNPM=()
find_pnpm() {
  if command -v pnpm >/dev/null && [[ $(pnpm --version 2>/dev/null) == "$pnpm_version" ]]; then
    PNPM=(pnpm); return 0
  fi
  export COREPACK_ENABLE_DOWNLOAD_PROMPT=0
  if command -v corepack >/dev/null && corepack pnpm@"$pnpm_version" --version >/dev/null 2>&1; then
    # Put a pnpm shim on PATH for the user too; fine if it needs rights we lack.
    corepack enable pnpm >/dev/null 2>&1 || as_root corepack enable pnpm >/dev/null 2>&1 || true
    PNPM=(corepack pnpm@"$pnpm_version"); return 0
  fi
  log "installing pnpm@$pnpm_version with npm"
  npm install -g "pnpm@$pnpm_version" >/dev/null 2>&1 || as_root npm install -g "pnpm@$pnpm_version" >/dev/null
  PNPM=(pnpm)
}

setup() {
  check_node
  install_packages "${base_packages[@]}"
  [[ $mode == test ]] && install_packages "${test_packages[@]}"
  find_pnpm
  log "${PNPM[*]}: installing dependencies from the lockfile"
  "${PNPM[@]}" install --frozen-lockfile --reporter=append-only
  log "building"
  "${PNPM[@]}" run build --output-logs=errors-only
}

case $mode in
  deps) setup ;;
  start)
    setup
    # Packet capture needs root (or cap_net_raw): use sudo when we are not root and it is there;
    # otherwise netwho says so once and shows TCP traffic from kernel counters instead.
    cli=(node apps/cli/dist/netwho.js watch "$@")
    if [ -t 1 ]; then
      log "starting netwho watch (q quits)"
    else
      log "starting netwho watch --raw (no terminal: JSON lines; Ctrl-C stops)"
      cli+=(--raw)
    fi
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      exec sudo -E "${cli[@]}"
    fi
    exec "${cli[@]}"
    ;;
  test)
    setup
    log "lint"
    "${PNPM[@]}" run lint --output-logs=errors-only
    log "typecheck"
    "${PNPM[@]}" run typecheck --output-logs=errors-only
    log "tests"
    rm -rf .cache/test-results
    status=0
    "${PNPM[@]}" run test --continue || status=$?
    node scripts/test-summary.mjs || status=1
    exit "$status"
    ;;
  *) die "unknown mode '$mode' (use start, test or deps)" ;;
esac
