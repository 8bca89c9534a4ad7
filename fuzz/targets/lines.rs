//! AFL target `lines`: see `bedrock_ledger_fuzz::lines` (fuzz/src/lib.rs) for what it exercises.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        bedrock_ledger_fuzz::lines(data);
    });
}
