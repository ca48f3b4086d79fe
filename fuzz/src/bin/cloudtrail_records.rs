//! AFL++ harness for the `cloudtrail_records` target: `cargo afl fuzz -i corpus/cloudtrail_records -o out/cloudtrail_records target/debug/cloudtrail_records`
//! (or `scripts/fuzz.sh`).

fn main() {
    afl::fuzz!(|data: &[u8]| {
        vigil_fuzz::targets::cloudtrail_records(data);
    });
}
