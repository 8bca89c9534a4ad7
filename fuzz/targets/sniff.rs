//! AFL target `sniff`: see `bedrock_ledger_fuzz::sniff` (fuzz/src/lib.rs) for what it exercises.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        bedrock_ledger_fuzz::sniff(data);
    });
}
