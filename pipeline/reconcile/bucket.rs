//! What the comparison is keyed by: account, region, model, token kind, scope and tier. Both
//! sides land on these keys: a billed CUR line through its usage type, a priced request
//! through its columns.

pub use crate::pricing::offer::Bucket as TokenKind;

/// Whether a price is the global cross-region one or the regional one that in-region and
/// geographic cross-region calls pay alike (the CUR bills them under one usage type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Regional,
    Global,
}

impl Scope {
    /// As the CSVs and the ledger query spell it.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Regional => "regional",
            Scope::Global => "global",
        }
    }

    /// The inverse of [`Scope::name`].
    pub fn from_name(name: &str) -> Option<Scope> {
        [Scope::Regional, Scope::Global]
            .into_iter()
            .find(|scope| scope.name() == name)
    }
}

/// The name of a token kind in the CSVs.
pub fn kind_name(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Input => "input",
        TokenKind::Output => "output",
        TokenKind::CacheRead => "cache_read",
        TokenKind::CacheWrite5m => "cache_write_5m",
        TokenKind::CacheWrite1h => "cache_write_1h",
    }
}

/// One line of the comparison.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BucketKey {
    pub account_id: String,
    pub region: String,
    /// The model id as the dataset's `model` column names it.
    pub model: String,
    pub kind: TokenKind,
    pub scope: Scope,
    /// `standard`, `flex`, `priority` or `optimized`.
    pub tier: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for scope in [Scope::Regional, Scope::Global] {
            assert_eq!(Scope::from_name(scope.name()), Some(scope));
        }
        assert_eq!(Scope::from_name("geo"), None);
        let kinds = [
            TokenKind::Input,
            TokenKind::Output,
            TokenKind::CacheRead,
            TokenKind::CacheWrite5m,
            TokenKind::CacheWrite1h,
        ];
        assert_eq!(
            kinds.map(kind_name),
            [
                "input",
                "output",
                "cache_read",
                "cache_write_5m",
                "cache_write_1h"
            ]
        );
    }
}
