//! AFL++ harness for the `sigma_rule` target: `cargo afl fuzz -i corpus/sigma_rule -o out/sigma_rule target/debug/sigma_rule`
//! (or `scripts/fuzz.sh`).

fn main() {
    afl::fuzz!(|data: &[u8]| {
        vigil_fuzz::targets::sigma_rule(data);
    });
}
