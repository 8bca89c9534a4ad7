//! AFL target `envelope`: see `bedrock_ledger_fuzz::envelope` (fuzz/src/lib.rs) for what it exercises.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        bedrock_ledger_fuzz::envelope(data);
    });
}
