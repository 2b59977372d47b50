#!/usr/bin/env bash
# Installs the Debian 12 packages vendo needs to build, test and benchmark.
# Idempotent: when every package is present it only runs dpkg-query and exits.
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libssl-dev libsqlite3-dev libpq-dev libpugixml-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev libargon2-dev
  libcjose-dev  # JOSE (JWK, JWS) for OpenID Connect ID tokens: docs/decisions.md 25
  libgtest-dev libgmock-dev libbenchmark-dev prometheus-cpp-dev
)
test_pkgs=(python3 python3-cryptography python3-botocore curl sqlite3 openssl procps ca-certificates
           ceph-mon ceph-osd radosgw  # Ceph RGW: the real S3 + STS peer of the e2e test
           postgresql haproxy         # the shared store and the load balancer of the scale-out tests
           chromium chromium-driver   # the browser test of the sign-up pages
           debootstrap dpkg-dev lintian help2man iproute2)  # the deployed host replayed on a Debian root; the package checks
bench_pkgs=(wrk nginx-light)
fuzz_pkgs=(clang-16 libclang-rt-16-dev)  # libFuzzer; clang 16 reads libstdc++ 12's <expected>
tidy_pkgs=(clang-tidy-16)                 # the same reason: clang-tidy 14 cannot

want=("${build_pkgs[@]}" "${test_pkgs[@]}")
if [[ "${1:-}" == "--bench" ]]; then want+=("${bench_pkgs[@]}"); fi
if [[ "${1:-}" == "--fuzz" ]]; then want+=("${fuzz_pkgs[@]}"); fi
if [[ "${1:-}" == "--tidy" ]]; then want+=("${tidy_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
