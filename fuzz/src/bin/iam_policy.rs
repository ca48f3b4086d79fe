//! AFL++ harness for the `iam_policy` target: `cargo afl fuzz -i corpus/iam_policy -o out/iam_policy target/debug/iam_policy`
//! (or `scripts/fuzz.sh`).

fn main() {
    afl::fuzz!(|data: &[u8]| {
        vigil_fuzz::targets::iam_policy(data);
    });
}
