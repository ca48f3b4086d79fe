#!/usr/bin/env bash
# Builds the real Debian root the host tests assess (vigil host sca/packages/vulns --root), once,
# outside the repository: debootstrap --variant=minbase plus the few packages the tests read
# (openssh-server for sshd_config, sudo for sudoers), from the Debian mirror this machine's apt
# already uses. Tests copy it and apply their own changes to the copy.
#
#   VIGIL_DEBIAN_ROOT_CACHE  where the root is kept (default /var/cache/vigil-test/debian-root)
#
# Prints the root's path. A complete root holds `.vigil-debian-root-complete` (with the time
# debootstrap took); an incomplete one is removed and built again.
set -euo pipefail
root="${VIGIL_DEBIAN_ROOT_CACHE:-/var/cache/vigil-test/debian-root}"
marker="$root/.vigil-debian-root-complete"
if [ -f "$marker" ]; then
    echo "$root"
    exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    echo "debootstrap is not installed (Debian's debootstrap package)" >&2
    exit 1
fi
# The mirror and suite apt uses: deb822 sources first, then the one-line format.
mirror=""
suite=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    mirror="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
    suite="$(awk '/^Suites:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    read -r mirror suite < <(awk '$1 == "deb" && $0 !~ /security/ {print $2, $3; exit}' /etc/apt/sources.list)
fi
suite="${suite:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}"
if [ -z "$mirror" ]; then
    echo "no Debian mirror found in /etc/apt/sources.list*" >&2
    exit 1
fi
rm -rf "$root"
mkdir -p "$(dirname "$root")"
start="$(date +%s)"
echo "debootstrap --variant=minbase $suite from $mirror into $root" >&2
debootstrap --variant=minbase --include=openssh-server,sudo "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
    echo "debootstrap failed; see $root.log" >&2
    tail -5 "$root.log" >&2
    exit 1
}
# debootstrap leaves apt's downloaded .debs: not needed by the tests.
rm -rf "$root/var/cache/apt/archives/"*.deb
echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( $(date +%s) - start )) s from $mirror $suite" >"$marker"
echo "$root"
