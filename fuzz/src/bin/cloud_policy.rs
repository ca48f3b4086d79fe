//! AFL++ harness for the `cloud_policy` target: `cargo afl fuzz -i corpus/cloud_policy -o out/cloud_policy target/debug/cloud_policy`
//! (or `scripts/fuzz.sh`).

fn main() {
    afl::fuzz!(|data: &[u8]| {
        vigil_fuzz::targets::cloud_policy(data);
    });
}
