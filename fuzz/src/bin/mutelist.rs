//! AFL++ harness for the `mutelist` target: `cargo afl fuzz -i corpus/mutelist -o out/mutelist target/debug/mutelist`
//! (or `scripts/fuzz.sh`).

fn main() {
    afl::fuzz!(|data: &[u8]| {
        vigil_fuzz::targets::mutelist(data);
    });
}
