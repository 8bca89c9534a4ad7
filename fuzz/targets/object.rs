//! AFL target `object`: see `bedrock_ledger_fuzz::object` (fuzz/src/lib.rs) for what it exercises.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        bedrock_ledger_fuzz::object(data);
    });
}
