//! AFL target `price_book`: see `bedrock_ledger_fuzz::price_book` (fuzz/src/lib.rs) for what it exercises.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        bedrock_ledger_fuzz::price_book(data);
    });
}
