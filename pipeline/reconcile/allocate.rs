//! Sharing the bill out: each bucket's billed cost, rounded once to the micro-dollar, is split
//! among the identities with priced cost in that bucket in proportion to that exact cost, each
//! share a whole micro-dollar, by the largest-remainder rule, so that the shares add up exactly
//! to the bucket's billed amount as printed. Billed cost with nothing in the ledger to share it
//! by (a bucket without priced cost, a usage type the map cannot place) is listed as
//! unallocated, never spread silently.

use std::cmp::Reverse;

use super::bucket::BucketKey;
use super::compare::{Comparison, UnmappedKey};
use super::ledger::Charged;
use crate::pricing::round_to_micros;

/// Why amounts could not be shared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    #[error("no positive weight to share by")]
    NoWeight,
    #[error("amounts too large to share exactly")]
    Overflow,
}

/// Splits `total` (whole units of any sign) among `weights` (≥ 0, not all 0) in proportion:
/// each share is the floor of its exact share, then the units left over go one each to the
/// largest remainders, ties to the earlier weight. The shares add up to `total` exactly, and
/// each differs from its exact share by less than one unit.
pub fn largest_remainder(total: i128, weights: &[i128]) -> Result<Vec<i128>, ShareError> {
    if weights.iter().any(|w| *w < 0) {
        return Err(ShareError::NoWeight);
    }
    let sum = weights
        .iter()
        .try_fold(0i128, |sum, w| sum.checked_add(*w))
        .ok_or(ShareError::Overflow)?;
    if sum == 0 {
        return Err(ShareError::NoWeight);
    }
    let magnitude = total.checked_abs().ok_or(ShareError::Overflow)?;
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (index, weight) in weights.iter().enumerate() {
        let exact = magnitude.checked_mul(*weight).ok_or(ShareError::Overflow)?;
        shares.push(exact / sum);
        remainders.push((Reverse(exact % sum), index));
    }
    let left = magnitude - shares.iter().sum::<i128>();
    remainders.sort();
    for (_, index) in remainders.into_iter().take(left as usize) {
        shares[index] += 1;
    }
    if total < 0 {
        shares.iter_mut().for_each(|share| *share = -*share);
    }
    Ok(shares)
}

/// What an allocation row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// An identity's share of a billed bucket.
    Allocated,
    /// An identity's priced cost in a bucket the bill does not charge: its share is 0.
    NotBilled,
    /// A billed bucket with no priced cost to share it by.
    Unallocated,
    /// A billed usage type the map cannot place.
    Unmapped,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Allocated => "allocated",
            Status::NotBilled => "not_billed",
            Status::Unallocated => "unallocated",
            Status::Unmapped => "unmapped",
        }
    }
}

/// What an allocation row shares: a bucket, or a usage type the map cannot place.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Bucket(BucketKey),
    Unmapped(UnmappedKey),
}

/// One row of the allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllocationRow {
    pub status: Status,
    /// `None` for unallocated and unmapped rows.
    pub charged: Option<Charged>,
    pub target: Target,
    /// The usage types billed under the target.
    pub usage_types: Vec<String>,
    /// The identity's exact priced cost in the bucket, 10⁻¹² USD.
    pub ledger: i128,
    /// The share of the bill, micro-dollars.
    pub allocated: i128,
}

/// Shares every bucket's billed cost; lists what cannot be shared. Identity rows come first
/// (by team, cost center, identity, then bucket), then unallocated buckets, then unmapped
/// usage types.
pub fn allocate(comparison: &Comparison) -> Result<Vec<AllocationRow>, ShareError> {
    let mut identity_rows = Vec::new();
    let mut unallocated = Vec::new();
    for (key, bucket) in &comparison.buckets {
        let usage_types: Vec<String> = bucket
            .billed
            .iter()
            .flat_map(|b| b.usage_types.iter().cloned())
            .collect();
        let weights: Vec<(&Charged, i128)> = bucket
            .ledger
            .iter()
            .flat_map(|l| l.by_identity.iter())
            .filter(|(_, cost)| **cost > 0)
            .map(|(charged, cost)| (charged, *cost))
            .collect();
        let billed = bucket.billed.as_ref().map(|b| round_to_micros(b.cost));
        let (status, shares) = match billed {
            Some(billed) if weights.is_empty() => {
                if billed != 0 {
                    unallocated.push(AllocationRow {
                        status: Status::Unallocated,
                        charged: None,
                        target: Target::Bucket(key.clone()),
                        usage_types,
                        ledger: 0,
                        allocated: billed,
                    });
                }
                continue;
            }
            Some(billed) => {
                let costs: Vec<i128> = weights.iter().map(|(_, cost)| *cost).collect();
                (Status::Allocated, largest_remainder(billed, &costs)?)
            }
            None => (Status::NotBilled, vec![0; weights.len()]),
        };
        for ((charged, cost), share) in weights.into_iter().zip(shares) {
            identity_rows.push(AllocationRow {
                status,
                charged: Some(charged.clone()),
                target: Target::Bucket(key.clone()),
                usage_types: usage_types.clone(),
                ledger: cost,
                allocated: share,
            });
        }
    }
    identity_rows.sort_by(|a, b| (&a.charged, &a.target).cmp(&(&b.charged, &b.target)));
    let unmapped = comparison
        .unmapped
        .iter()
        .map(|(key, unmapped)| AllocationRow {
            status: Status::Unmapped,
            charged: None,
            target: Target::Unmapped(key.clone()),
            usage_types: vec![key.usage_type.clone()],
            ledger: 0,
            allocated: round_to_micros(unmapped.billed.cost),
        });
    Ok(identity_rows
        .into_iter()
        .chain(unallocated)
        .chain(unmapped)
        .collect())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::reconcile::bucket::{Scope, TokenKind};
    use crate::reconcile::compare::{BilledSide, Bucket, LedgerSide, Unmapped, UnmappedKey};

    #[test]
    fn shares_add_up_exactly_and_stay_within_a_unit_of_the_exact_share() {
        let cases: &[(i128, &[i128], &[i128])] = &[
            (100, &[1, 1, 1], &[34, 33, 33]),
            (2, &[1, 1, 1], &[1, 1, 0]),
            (10, &[3, 7], &[3, 7]),
            (0, &[5, 5], &[0, 0]),
            (1, &[0, 1], &[0, 1]),
            // exact 1.4, 2.1, 3.5: the one unit left goes to the largest remainder
            (7, &[2, 3, 5], &[1, 2, 4]),
            (-7, &[2, 3, 5], &[-1, -2, -4]),
            (1_000_001, &[333, 333, 334], &[333_000, 333_000, 334_001]),
        ];
        for (total, weights, expected) in cases {
            let shares = largest_remainder(*total, weights).unwrap();
            assert_eq!(&shares, expected, "{total} by {weights:?}");
            assert_eq!(shares.iter().sum::<i128>(), *total);
        }
        // Many uneven weights: the sum is exact and every share within a unit.
        let weights: Vec<i128> = (1..=97).map(|i| i * i * 7_919 % 10_007).collect();
        let sum: i128 = weights.iter().sum();
        for total in [0, 1, 96, 97, 98, 123_456_789] {
            let shares = largest_remainder(total, &weights).unwrap();
            assert_eq!(shares.iter().sum::<i128>(), total);
            for (share, weight) in shares.iter().zip(&weights) {
                let exact_scaled = total * weight;
                assert!((share * sum - exact_scaled).abs() < sum, "{total} {weight}");
            }
        }
        assert_eq!(largest_remainder(5, &[0, 0]), Err(ShareError::NoWeight));
        assert_eq!(largest_remainder(5, &[]), Err(ShareError::NoWeight));
        assert_eq!(largest_remainder(5, &[-1, 2]), Err(ShareError::NoWeight));
        assert_eq!(
            largest_remainder(i128::MAX, &[2, 3]),
            Err(ShareError::Overflow)
        );
    }

    #[test]
    fn allocates_billed_buckets_and_lists_what_it_cannot() {
        let key = |model: &str| BucketKey {
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            model: model.into(),
            kind: TokenKind::Input,
            scope: Scope::Regional,
            tier: "standard".into(),
        };
        let charged = |identity: &str| Charged {
            team: "web".into(),
            cost_center: "CC-1".into(),
            identity: identity.into(),
            end_user: String::new(),
        };
        let ledger = |costs: &[(&str, i128)]| LedgerSide {
            tokens: 1,
            cost: costs.iter().map(|c| c.1).sum(),
            by_identity: costs.iter().map(|(i, c)| (charged(i), *c)).collect(),
        };
        let billed = |picos: i128| BilledSide {
            cost: picos,
            usage_types: ["USE1-X-input-tokens".to_owned()].into(),
            ..BilledSide::default()
        };
        let comparison = Comparison {
            buckets: BTreeMap::from([
                // 0.000010 billed, priced 1 : 2 (and a zero-cost identity that gets no row)
                (
                    key("a"),
                    Bucket {
                        ledger: Some(ledger(&[("bob", 2_000_000), ("ann", 1_000_000), ("cy", 0)])),
                        billed: Some(billed(10_000_000)),
                    },
                ),
                (
                    key("b"),
                    Bucket {
                        ledger: Some(ledger(&[("ann", 5_000_000)])),
                        billed: None,
                    },
                ),
                (
                    key("c"),
                    Bucket {
                        ledger: None,
                        billed: Some(billed(4_400_000)),
                    },
                ),
            ]),
            unmapped: BTreeMap::from([(
                UnmappedKey {
                    account_id: "111122223333".into(),
                    region: "us-east-1".into(),
                    usage_type: "USE1-NovaCanvas-T2I".into(),
                    product_name: String::new(),
                },
                Unmapped {
                    reason: "not a token price".into(),
                    billed: billed(40_000_000),
                },
            )]),
            non_usage: BTreeMap::new(),
        };
        let rows = allocate(&comparison).unwrap();
        let view: Vec<(&str, &str, &str, i128)> = rows
            .iter()
            .map(|r| {
                (
                    r.status.name(),
                    r.charged.as_ref().map_or("", |c| c.identity.as_str()),
                    match &r.target {
                        Target::Bucket(bucket) => bucket.model.as_str(),
                        Target::Unmapped(key) => key.usage_type.as_str(),
                    },
                    r.allocated,
                )
            })
            .collect();
        assert_eq!(
            view,
            [
                ("allocated", "ann", "a", 3),
                ("not_billed", "ann", "b", 0),
                ("allocated", "bob", "a", 7),
                ("unallocated", "", "c", 4),
                ("unmapped", "", "USE1-NovaCanvas-T2I", 40),
            ]
        );
    }
}
