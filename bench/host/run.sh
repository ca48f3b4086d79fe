#!/usr/bin/env bash
# Host module benchmarks, side by side with their peers on the same input, in one run:
#   1. file integrity: vigil host fim baseline/check vs AIDE (--init/--check) on the same tree,
#      at the same hash (SHA-256), plus vigil with BLAKE3; wall time and peak memory;
#   2. log ingest: vigil host logs hunt over a generated auth.log (records/s on one core);
#   3. YARA: vigil host malware scan vs Debian's `yara` CLI, same rules, same files, same threads.
# Usage: bash bench/host/run.sh [TREE] [YARA_DIR]   (defaults: /usr/lib, /usr/bin)
# Run it under `nice` on a shared machine; it only reads TREE and YARA_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
TREE="${1:-/usr/lib}"
YARA_DIR="${2:-/usr/bin}"
THREADS="${THREADS:-2}"
: "${CARGO_TARGET_DIR:=target}"
cargo build --release -p vigil --quiet
VIGIL="$CARGO_TARGET_DIR/release/vigil"
WORK="$(mktemp -d /tmp/vigil-bench-host.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
echo "date: $(date -u +%FT%TZ); machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tree: $TREE ($(find "$TREE" -xdev | wc -l) entries, $(du -sh "$TREE" 2>/dev/null | cut -f1))"

# measure NAME COMMAND...: wall seconds and peak RSS (MB) from GNU time.
measure() {
    local name="$1"; shift
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || true
    read -r seconds kilobytes < "$WORK/time"
    printf '%-40s %8.2f s %8d MB\n' "$name" "$seconds" "$((kilobytes / 1024))"
}

echo "== file integrity (page cache warmed by a first read of the tree)"
find "$TREE" -xdev -type f -exec cat {} + >/dev/null 2>&1 || true
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
        measure "vigil fim baseline ($hash, $threads threads)" "$VIGIL" host fim baseline --root "$TREE" --db "$WORK/vigil-$hash.db" --hash "$hash" --threads "$threads"
        measure "vigil fim check ($hash, $threads threads)" "$VIGIL" host fim check --root "$TREE" --db "$WORK/vigil-$hash.db" --format json --threads "$threads"
    done
done

echo "== log ingest (one core)"
python3 - "$WORK/auth.log" <<'PY'
import sys, random
random.seed(1)
lines = []
for i in range(500_000):
    second = i % 60
    kind = i % 10
    address = f"198.51.{random.randrange(256)}.{random.randrange(256)}"
    if kind < 4:
        lines.append(f"2026-05-04T10:{(i//60)%60:02d}:{second:02d}+00:00 web1 sshd[{1000+i%500}]: Failed password for invalid user u{i%97} from {address} port {40000+i%20000} ssh2")
    elif kind < 6:
        lines.append(f"2026-05-04T10:{(i//60)%60:02d}:{second:02d}+00:00 web1 sshd[{1000+i%500}]: Accepted publickey for deploy from {address} port {40000+i%20000} ssh2: ED25519 SHA256:abc")
    elif kind < 8:
        lines.append(f"2026-05-04T10:{(i//60)%60:02d}:{second:02d}+00:00 web1 CRON[{2000+i%500}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")
    else:
        lines.append(f"2026-05-04T10:{(i//60)%60:02d}:{second:02d}+00:00 web1 sudo[{3000+i%500}]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
RULES=()
if [ -d ../shared/data/sigma-linux ]; then RULES=(--rules ../shared/data/sigma-linux/builtin --rules ../shared/data/sigma-linux/auditd); fi
start=$(date +%s.%N)
measure "vigil host logs hunt (500k lines)" taskset -c 0 "$VIGIL" host logs hunt "$WORK/auth.log" "${RULES[@]}"
end=$(date +%s.%N)
python3 -c "print(f'{500000/($end-$start):,.0f} records/s on one core (wall, including process start)')"

echo "== YARA ($YARA_DIR, $(du -sh "$YARA_DIR" | cut -f1), $THREADS threads)"
mkdir -p "$WORK/rules"
cp crates/malware/rules/*.yar "$WORK/rules/"
cat crates/malware/rules/*.yar > "$WORK/all.yar"
cat "$YARA_DIR"/* >/dev/null 2>&1 || true
bytes=$(du -sb "$YARA_DIR" | cut -f1)
for tool in yara vigil; do
    start=$(date +%s.%N)
    if [ "$tool" = yara ]; then
        measure "yara -r (Debian $(yara --version))" yara -r -p "$THREADS" "$WORK/all.yar" "$YARA_DIR"
    else
        measure "vigil host malware scan" "$VIGIL" host malware scan "$YARA_DIR" --no-builtin --rules "$WORK/rules" --threads "$THREADS" --format json
    fi
    end=$(date +%s.%N)
    python3 -c "print(f'  {$bytes/1e6/($end-$start):,.0f} MB/s')"
done
