#!/usr/bin/env bash
# The Debian 12 host that tests/integration/test_deployed_host.py replays a deployed host's
# user data on: `debootstrap --variant=minbase bookworm` (what an EC2 image starts from), and
# beside it a local apt repository with every package that user data installs (awscli,
# python3, curl, and the .deb's dependencies), so that the test itself reaches no network but
# its own. Made once and kept under the build folder; made again when the package's
# dependencies change. Needs root and Debian's mirror (like `make deps`).
#
#   scripts/debian-root.sh OUT_DIR PACKAGE.deb
set -euo pipefail

out=${1:?usage: debian-root.sh OUT_DIR PACKAGE.deb}
deb=${2:?usage: debian-root.sh OUT_DIR PACKAGE.deb}
mirror_url=${VENDO_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Where the test serves the local repository from (its veth address on the host side).
repo_url=http://10.250.79.1:8079/

if [[ $(id -u) -ne 0 ]]; then
  echo "debian-root: needs root (debootstrap and chroot)" >&2
  exit 1
fi
wanted="awscli python3 curl | $(dpkg-deb -f "$deb" Depends)"
if [[ -f $out/ready ]] && [[ "$(cat "$out/ready")" == "$wanted" ]]; then
  exit 0
fi

echo "debian-root: making $out/base (debootstrap minbase bookworm) and $out/repo" >&2
rm -rf "$out"
mkdir -p "$out/repo"
debootstrap --variant=minbase bookworm "$out/base" "$mirror_url" >"$out/debootstrap.log" 2>&1 ||
  { tail -20 "$out/debootstrap.log" >&2; exit 1; }

# Every package the user data will install, downloaded (not installed) inside the root, so
# that the versions fit it exactly.
cp "$deb" "$out/base/tmp/vendo.deb"
cp /etc/resolv.conf "$out/base/etc/resolv.conf"
chroot "$out/base" apt-get update -qq
chroot "$out/base" apt-get install -y -qq --download-only --no-install-recommends \
  awscli python3 curl /tmp/vendo.deb >/dev/null
mv "$out"/base/var/cache/apt/archives/*.deb "$out/repo/"
(cd "$out/repo" && dpkg-scanpackages --multiversion . /dev/null >Packages 2>/dev/null)

# The root as a fresh image has it: no package lists or downloads; apt points at the test's
# repository (unsigned, so trusted by name).
rm -rf "$out"/base/var/lib/apt/lists/* "$out/base/tmp/vendo.deb" "$out/base/etc/resolv.conf"
rm -f "$out"/base/var/cache/apt/*.bin
echo "deb [trusted=yes] $repo_url ./" >"$out/base/etc/apt/sources.list"
echo "$wanted" >"$out/ready"
echo "debian-root: ready ($(ls "$out/repo" | grep -c '\.deb$') packages in the repository)" >&2
