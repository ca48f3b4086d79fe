#!/usr/bin/env bash
# Splits a binary's debug information into a file beside it:
#   split-debuginfo.sh BINARY OUTDIR
# writes OUTDIR/NAME without debug information (small; its symbols stay, so a backtrace still
# names functions) and OUTDIR/NAME.debug with the line tables (zlib-compressed), linked from the
# binary by a .gnu_debuglink section. A panic backtrace reads NAME.debug when it is next to the
# binary (or in /usr/lib/debug/<the binary's directory>/) and then names files and lines.
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: $0 BINARY OUTDIR" >&2
    exit 2
fi
binary="$1"
out="$2"
name="$(basename "$binary")"
mkdir -p "$out"
# The debug file first: the link records its CRC, so it must be written in its final form.
objcopy --only-keep-debug --compress-debug-sections=zlib "$binary" "$out/$name.debug"
objcopy --strip-debug --add-gnu-debuglink="$out/$name.debug" "$binary" "$out/$name"
chmod -x "$out/$name.debug"
