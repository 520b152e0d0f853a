#!/usr/bin/env bash
# Installs everything portsniff needs on a fresh Debian machine with Node 20, then the npm deps.
# Idempotent. Uses sudo when not root. Apt packages:
#   tcpdump, libpcap-dev     live capture (default backend) and the optional `cap` native backend
#   redis-server, redis-tools, openssl, prometheus, bind9-dnsutils, curl
#                            real servers/clients for the real-traffic fixture scripts and live tests
#   time                     /usr/bin/time -v for peak RSS in the benchmark suite
#   tmux                     a real terminal for the dashboard end-to-end tests
#   nfdump                   nfcapd, a real IPFIX collector for the flow-export tests
#   gcc, libc6-dev           the C counterpart of the ceiling benchmark (bench/ceiling.c) and its test
#   strace                   sees every close(2) of the CLI, threads included (test/cli/descriptors.test.ts)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(tcpdump libpcap-dev redis-server redis-tools openssl prometheus bind9-dnsutils curl time tmux nfdump gcc libc6-dev strace)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO=""; fi
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then
    echo "setup: installing apt packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: warning: cannot install ${missing[*]} (not root, no sudo); tests that need them will skip" >&2
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
