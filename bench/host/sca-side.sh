#!/usr/bin/env bash
# Configuration assessment side by side in one run on the live system (BENCHMARKS.md, "Host:
# configuration assessment"): vigil's SCA engine (release build) with Wazuh's CIS Debian 12
# policy, OpenSCAP with the SCAP Security Guide's Debian content, and Lynis. Needs Debian's
# openscap-scanner, ssg-debian and lynis, and ../shared/data/sca beside the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
policy="${1:-../shared/data/sca/cis_debian12.yml}"
content="${2:-/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml}"
cargo bench -p vigil-host --bench sca --no-run
timed() { /usr/bin/time -f "wall %e s user %U s sys %S s maxrss %M KB" "$@"; }
echo "== $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== vigil"
timed cargo bench -q -p vigil-host --bench sca -- "$policy"
echo "== $(oscap --version | head -1)"
timed oscap xccdf eval --profile xccdf_org.ssgproject.content_profile_standard --results /tmp/oscap-results.xml "$content" >/tmp/oscap.out 2>&1 || true
grep "^Result" /tmp/oscap.out | sort | uniq -c || true
tail -1 /tmp/oscap.out
echo "== lynis $(lynis --version)"
timed lynis audit system --quick --no-colors --logfile /tmp/lynis.log --report-file /tmp/lynis-report.dat >/tmp/lynis.out 2>&1 || true
grep -i "hardening index" /tmp/lynis.out || true
tail -1 /tmp/lynis.out
echo "== end $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
