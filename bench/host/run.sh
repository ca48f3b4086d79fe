#!/usr/bin/env bash
# Host module benchmarks, side by side with their peers on the same input, in one run:
#   1. file integrity: vigil's baseline/check vs AIDE (--init/--check) on the same tree, at the
#      same hash (SHA-256), plus vigil with BLAKE3; wall time and peak memory (GNU time);
#   2. log ingest: the built-in and SigmaHQ Linux rules over a generated auth.log (records/s,
#      one core);
#   3. YARA: vigil's scanner (yara-x) vs Debian's `yara` CLI, same rules, files and threads.
# The library calls of `vigil host fim|logs|malware` run from two small release examples
# (crates/host/examples/host_bench.rs, crates/malware/examples/scan_bench.rs): building the
# whole `vigil` binary in release takes far longer on a shared machine.
# Usage: nice bash bench/host/run.sh [TREE] [YARA_DIR]   (defaults: /usr, /usr/bin). It only reads them.
set -euo pipefail
cd "$(dirname "$0")/../.."
TREE="${1:-/usr}"
YARA_DIR="${2:-/usr/bin}"
THREADS="${THREADS:-2}"
: "${CARGO_TARGET_DIR:=target}"
cargo build --release --quiet -p vigil-host --example host_bench
cargo build --release --quiet -p vigil-malware --example scan_bench
HOST="$CARGO_TARGET_DIR/release/examples/host_bench"
SCAN="$CARGO_TARGET_DIR/release/examples/scan_bench"
WORK="$(mktemp -d /tmp/vigil-bench-host.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
echo "date: $(date -u +%FT%TZ); machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tree: $TREE ($(find "$TREE" -xdev | wc -l) entries)"

# measure NAME COMMAND...: wall seconds and peak RSS from GNU time, and the tool's own line.
measure() {
    local name="$1"; shift
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || true
    read -r seconds kilobytes < "$WORK/time"
    printf '%-44s %8.2f s %7d MB  %s\n' "$name" "$seconds" "$((kilobytes / 1024))" "$(grep -v '^warning' "$WORK/stderr" | tail -1)"
}

echo "== file integrity (page cache warmed by a first read of the tree)"
find "$TREE" -xdev -type f -print0 2>/dev/null | xargs -0 cat >/dev/null 2>&1 || true
cat > "$WORK/aide.conf" <<CONF
database_in=file:$WORK/aide.db
database_out=file:$WORK/aide.db
gzip_dbout=no
report_url=stdout
Rules = ftype+p+u+g+s+sha256+l+i+m+xattrs+acl
$TREE Rules
CONF
measure "aide --init (sha256, 1 thread)" aide --init -c "$WORK/aide.conf"
measure "aide --check (sha256, 1 thread)" aide --check -c "$WORK/aide.conf"
for hash in sha256 blake3; do
    for threads in 1 "$THREADS"; do
        measure "vigil fim baseline ($hash, $threads threads)" "$HOST" fim-baseline "$TREE" "$WORK/vigil-$hash-$threads.db" "$hash" "$threads"
        measure "vigil fim check ($hash, $threads threads)" "$HOST" fim-check "$TREE" "$WORK/vigil-$hash-$threads.db" "$threads"
    done
done

echo "== log ingest (one core)"
python3 - "$WORK/auth.log" <<'PY'
import sys, random
random.seed(1)
lines = []
for i in range(500_000):
    stamp = f"2026-05-04T{10 + i // 360000:02d}:{(i // 6000) % 60:02d}:{(i // 100) % 60:02d}+00:00"
    address = f"198.51.{random.randrange(256)}.{random.randrange(256)}"
    kind = i % 10
    if kind < 4:
        lines.append(f"{stamp} web1 sshd[{1000+i%500}]: Failed password for invalid user u{i%97} from {address} port {40000+i%20000} ssh2")
    elif kind < 6:
        lines.append(f"{stamp} web1 sshd[{1000+i%500}]: Accepted publickey for deploy from {address} port {40000+i%20000} ssh2: ED25519 SHA256:abc")
    elif kind < 8:
        lines.append(f"{stamp} web1 CRON[{2000+i%500}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")
    else:
        lines.append(f"{stamp} web1 sudo[{3000+i%500}]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
RULES=()
if [ -d ../shared/data/sigma-linux ]; then RULES=(../shared/data/sigma-linux/builtin ../shared/data/sigma-linux/auditd); fi
measure "logs: 500k auth.log lines, built-in + SigmaHQ" taskset -c 0 "$HOST" logs "$WORK/auth.log" "${RULES[@]}"

echo "== YARA ($YARA_DIR, $(du -sh "$YARA_DIR" | cut -f1), $THREADS threads, vigil's built-in rules)"
mkdir -p "$WORK/rules"
cp crates/malware/rules/*.yar "$WORK/rules/"
cat crates/malware/rules/*.yar > "$WORK/all.yar"
find "$YARA_DIR" -maxdepth 1 -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true
measure "yara -r -p $THREADS ($(yara --version))" yara -r -p "$THREADS" "$WORK/all.yar" "$YARA_DIR"
measure "vigil malware scan (yara-x, $THREADS threads)" "$SCAN" "$YARA_DIR" "$WORK/rules" "$THREADS"
