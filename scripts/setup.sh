#!/usr/bin/env bash
# Installs the Debian 12 packages rivulet builds and tests with, when any is missing.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config clang-format lld
  librdkafka-dev libzmq3-dev cppzmq-dev prometheus-cpp-dev libyaml-cpp-dev libsimdjson-dev
  libsystemd-dev libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev libreaderwriterqueue-dev
  systemd
  dpkg-dev file groff-base  # the package test: cpack's dpkg-shlibdeps (which needs file), man pages
  prometheus                # the Prometheus test: the server and promtool
  clang-14 libclang-rt-14-dev  # the fuzz targets: clang with libFuzzer and the sanitizers
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
