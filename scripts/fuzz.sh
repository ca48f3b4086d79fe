#!/usr/bin/env bash
# Fuzzes vigil's parsers with AFL++ (afl.rs, stable Rust): each target in fuzz/ for SECONDS
# seconds (default 120), niced, starting from the committed corpus fuzz/corpus/<target>.
# Prints executions and crashes per target; crash inputs land in fuzz/out/<target>/default/crashes
# (copy one to fuzz/regressions/<target>/ with the fix, so the corpus replay test keeps it).
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Needs cargo-afl (`cargo install cargo-afl`, then `cargo afl config --build` once).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-120}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(iam_policy sigma_rule cloudtrail_records snapshot mutelist cloud_policy)
fi
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/target}"
nice -n 19 cargo afl build --release --quiet
# The machine is shared and runs no crash handler of ours: AFL must not insist on either.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
mkdir -p out
for target in "${targets[@]}"; do
    out="out/$target"
    rm -rf "$out"
    # -t: 1 s per input (a hang beyond it is reported as one); -m: 200 MiB of memory at most,
    # so unbounded allocation shows as a crash.
    nice -n 19 timeout $((seconds + 60)) cargo afl fuzz -V "$seconds" -t 1000 -m 200 -i "corpus/$target" -o "$out" "$CARGO_TARGET_DIR/release/$target" >"$out.log" 2>&1 || true
    stats="$out/default/fuzzer_stats"
    if [ -f "$stats" ]; then
        execs="$(awk -F': *' '/^execs_done/ {print $2}' "$stats")"
        crashes="$(awk -F': *' '/^saved_crashes/ {print $2}' "$stats")"
        hangs="$(awk -F': *' '/^saved_hangs/ {print $2}' "$stats")"
        edges="$(awk -F': *' '/^edges_found/ {print $2}' "$stats")"
        echo "$target: $execs executions in ${seconds}s, $edges edges, $crashes crashes, $hangs hangs"
    else
        echo "$target: no statistics (see fuzz/$out.log)"
    fi
done
