#!/usr/bin/env bash
# Installs everything Strom needs to build, test and benchmark on Debian 12.
# Idempotent and quiet when all is present; safe to run on every `make test`.
set -euo pipefail
# --profiling: also Debian's linux-perf (`perf`), only for bench/peer/run.py --profile.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Debian packages: toolchain, libraries (ARCHITECTURE.md §6), and test peers.
DEB_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  clang-14 clang-format-14 lld libclang-rt-14-dev
  libasio-dev
  libprotobuf-dev protobuf-compiler
  libflatbuffers-dev flatbuffers-compiler
  libspdlog-dev libfmt-dev
  libcli11-dev libyaml-cpp-dev nlohmann-json3-dev
  liblz4-dev libzstd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  librocksdb-dev libroaring-dev
  libzookeeper-mt-dev zookeeper
  libssl-dev libcurl4-openssl-dev
  python3-venv
  openjdk-17-jdk-headless maven
)
for arg in "$@"; do
  [ "$arg" = --profiling ] && DEB_PACKAGES+=(linux-perf)
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python tools in a project-local virtual environment (independent readers for tests).
VENV="$ROOT/.venv"
# Each entry is "pip requirement:import name".
PY_PACKAGES=(pyarrow:pyarrow numpy:numpy pyfluss==1.0.0:fluss pytest:pytest matplotlib:matplotlib)
if [ ! -x "$VENV/bin/python" ]; then
  echo "install-deps: creating $VENV"
  python3 -m venv "$VENV"
fi
need_py=()
for entry in "${PY_PACKAGES[@]}"; do
  requirement=${entry%%:*} module=${entry##*:}
  if ! "$VENV/bin/python" -c "import $module" >/dev/null 2>&1; then need_py+=("$requirement"); fi
done
if [ "${#need_py[@]}" -gt 0 ]; then
  echo "install-deps: installing Python packages: ${need_py[*]}"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${need_py[@]}"
fi
