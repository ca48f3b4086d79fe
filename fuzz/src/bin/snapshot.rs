//! AFL++ harness for the `snapshot` target: `cargo afl fuzz -i corpus/snapshot -o out/snapshot target/debug/snapshot`
//! (or `scripts/fuzz.sh`).

fn main() {
    afl::fuzz!(|data: &[u8]| {
        vigil_fuzz::targets::snapshot(data);
    });
}
