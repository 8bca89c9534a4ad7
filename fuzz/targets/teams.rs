//! AFL target `teams`: see `bedrock_ledger_fuzz::teams` (fuzz/src/lib.rs) for what it exercises.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        bedrock_ledger_fuzz::teams(data);
    });
}
