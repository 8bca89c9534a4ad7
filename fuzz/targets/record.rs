//! AFL target `record`: see `bedrock_ledger_fuzz::record` (fuzz/src/lib.rs) for what it exercises.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        bedrock_ledger_fuzz::record(data);
    });
}
