#!/bin/sh
# Set up a fresh checkout: a C compiler and OpenBLAS for the native kernels, then npm ci (which
# builds them). Without them the kit still runs, on the wasm backend's own kernels alone, at
# about 2.5x the time (results/bench/README.md). On Debian and Ubuntu the two packages come
# from apt-get (as root, or through sudo); in a conda environment from environment.yml; elsewhere
# this says what to install and goes on.
set -eu
cd "$(dirname "$0")/.."

need=""
command -v cc >/dev/null 2>&1 || need="$need gcc libc6-dev"
if command -v dpkg >/dev/null 2>&1; then
  dpkg -s libopenblas-dev >/dev/null 2>&1 || need="$need libopenblas-dev"
  # Node's N-API headers: beside this node (official builds) or Debian's /usr/include/node.
  node_include="$(dirname "$(dirname "$(command -v node)")")/include/node"
  [ -f "$node_include/node_api.h" ] || [ -f /usr/include/node/node_api.h ] || need="$need libnode-dev"
fi
if [ -n "$need" ] && [ -z "${CONDA_PREFIX:-}" ]; then
  if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else sudo="none"; fi
    if [ "$sudo" = none ]; then
      echo "setup: cannot install$need (not root, no sudo): the kit will run without its native kernels" >&2
    else
      echo "setup: installing$need (the native kernels' compiler and OpenBLAS)" >&2
      $sudo apt-get update -qq
      # shellcheck disable=SC2086 # the package list is meant to split
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $need >/dev/null
    fi
  else
    echo "setup: install a C compiler and OpenBLAS (or use environment.yml with conda) for the native kernels" >&2
  fi
fi
npm ci --no-audit --no-fund
