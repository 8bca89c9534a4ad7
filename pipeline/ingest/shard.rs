//! Shards: the K-th of N disjoint subsets of the listed objects, so that N workers can split one
//! listing between them without talking to each other.
//!
//! An object's shard is the first eight bytes of the SHA-256 of its URI, big-endian, modulo N.
//! It depends on nothing but the URI and N: the same on every machine and every rerun, and an
//! object keeps its shard when others are added to or removed from the listing. A retried shard
//! therefore re-lists the objects it was given before (plus any new ones that hash to it).

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// One shard of N: `index` counts from 0 (as `AWS_BATCH_JOB_ARRAY_INDEX` does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

/// Why a shard could not be formed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("{0:?} is not a shard: write K/N, with 0 <= K < N (e.g. 0/4)")]
    Syntax(String),
    #[error("shard {index} of {count} does not exist: K must be below N, and N at least 1")]
    OutOfRange { index: u64, count: u64 },
}

impl Shard {
    /// Shard `index` of `count`.
    pub fn new(index: u64, count: u64) -> Result<Shard, ShardError> {
        if count == 0 || index >= count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(Shard { index, count })
    }

    /// The shard AWS Batch gives an array job's child (`AWS_BATCH_JOB_ARRAY_INDEX` of
    /// `AWS_BATCH_JOB_ARRAY_SIZE`), if both are set.
    pub fn from_batch_array(
        index: Option<&str>,
        size: Option<&str>,
    ) -> Option<Result<Shard, ShardError>> {
        let (index, size) = (index?, size?);
        let parse = |text: &str| {
            text.trim()
                .parse::<u64>()
                .map_err(|_| ShardError::Syntax(format!("{index}/{size}")))
        };
        Some(parse(index).and_then(|i| Shard::new(i, parse(size)?)))
    }

    /// Whether the object at `uri` belongs to this shard.
    pub fn holds(&self, uri: &str) -> bool {
        let digest = Sha256::digest(uri.as_bytes());
        let head = u64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 has 32 bytes"));
        head % self.count == self.index
    }

    /// The index, from 0.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// How many shards there are.
    pub fn count(&self) -> u64 {
        self.count
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Shard, ShardError> {
        let syntax = || ShardError::Syntax(text.to_owned());
        let (index, count) = text.split_once('/').ok_or_else(syntax)?;
        let index = index.trim().parse().map_err(|_| syntax())?;
        let count = count.trim().parse().map_err(|_| syntax())?;
        Shard::new(index, count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_shards() {
        for (text, expected) in [
            ("0/1", Ok(Shard { index: 0, count: 1 })),
            ("3/4", Ok(Shard { index: 3, count: 4 })),
            (" 1 / 2 ", Ok(Shard { index: 1, count: 2 })),
            ("4/4", Err(ShardError::OutOfRange { index: 4, count: 4 })),
            ("0/0", Err(ShardError::OutOfRange { index: 0, count: 0 })),
            ("1", Err(ShardError::Syntax("1".to_owned()))),
            ("a/2", Err(ShardError::Syntax("a/2".to_owned()))),
            ("-1/2", Err(ShardError::Syntax("-1/2".to_owned()))),
        ] {
            assert_eq!(text.parse::<Shard>(), expected, "{text}");
        }
        assert_eq!(Shard::new(2, 5).unwrap().to_string(), "2/5");
    }

    #[test]
    fn reads_the_batch_array_variables() {
        assert_eq!(Shard::from_batch_array(None, Some("4")), None);
        assert_eq!(Shard::from_batch_array(Some("1"), None), None);
        assert_eq!(
            Shard::from_batch_array(Some("1"), Some("4")),
            Some(Ok(Shard { index: 1, count: 4 }))
        );
        assert!(matches!(
            Shard::from_batch_array(Some("4"), Some("4")),
            Some(Err(ShardError::OutOfRange { .. }))
        ));
        assert!(matches!(
            Shard::from_batch_array(Some("x"), Some("4")),
            Some(Err(ShardError::Syntax(_)))
        ));
    }

    #[test]
    fn every_object_is_in_exactly_one_shard_and_the_split_is_fixed() {
        let uris: Vec<String> = (0..1000)
            .map(|i| format!("s3://logs/AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2026/10/01/{i:04}.json.gz"))
            .collect();
        let shards: Vec<Shard> = (0..4).map(|k| Shard::new(k, 4).unwrap()).collect();
        let mut sizes = [0usize; 4];
        for uri in &uris {
            let holders: Vec<u64> = shards
                .iter()
                .filter(|s| s.holds(uri))
                .map(|s| s.index())
                .collect();
            assert_eq!(holders.len(), 1, "{uri}");
            sizes[holders[0] as usize] += 1;
        }
        // Fixed by SHA-256: a change here would move objects between shards of running jobs.
        assert_eq!(sizes, [251, 257, 252, 240]);
        assert!(Shard::new(0, 1).unwrap().holds(&uris[0]));
    }
}
