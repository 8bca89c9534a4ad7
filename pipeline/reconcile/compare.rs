//! Both sides on one key: the ledger's priced requests and the billed `Usage` lines summed per
//! (account, region, model, token kind, scope, tier); billed usage types the map cannot place
//! summed per usage type with the reason; every other line item type (credits, tax, refunds,
//! discounts, Savings Plans…) summed per type, apart. Nothing billed is dropped.

use std::collections::{BTreeMap, BTreeSet};

use super::bucket::{BucketKey, TokenKind};
use super::cur::{CurLine, USAGE};
use super::ledger::{Charged, LedgerRow};
use super::usage_types::UsageTypeMap;

/// The ledger's side of a bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LedgerSide {
    pub tokens: i128,
    /// Exact cost, 10⁻¹² USD.
    pub cost: i128,
    /// Exact cost per charged identity (which may be 0: Nova's cache writes are free).
    pub by_identity: BTreeMap<Charged, i128>,
}

/// The bill's side of a bucket, an unmapped usage type or a non-usage group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BilledSide {
    /// Exact `line_item_unblended_cost`, 10⁻¹² USD.
    pub cost: i128,
    /// `line_item_usage_amount`, 10⁻¹² of the pricing unit.
    pub usage_amount: i128,
    pub pricing_units: BTreeSet<String>,
    pub usage_types: BTreeSet<String>,
    pub descriptions: BTreeSet<String>,
}

impl BilledSide {
    fn add(&mut self, line: &CurLine) {
        self.cost += line.cost;
        self.usage_amount += line.usage_amount;
        for (set, value) in [
            (&mut self.pricing_units, &line.pricing_unit),
            (&mut self.usage_types, &line.usage_type),
            (&mut self.descriptions, &line.description),
        ] {
            if !value.is_empty() {
                set.insert(value.clone());
            }
        }
    }
}

/// A bucket: either side may be missing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bucket {
    pub ledger: Option<LedgerSide>,
    pub billed: Option<BilledSide>,
}

/// (account, region, usage type, product name) of a billed line the map cannot place.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnmappedKey {
    pub account_id: String,
    pub region: String,
    pub usage_type: String,
    pub product_name: String,
}

/// Billed usage the map cannot place, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmapped {
    pub reason: String,
    pub billed: BilledSide,
}

/// (account, region, line item type, usage type) of a line that is not `Usage`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NonUsageKey {
    pub account_id: String,
    pub region: String,
    pub line_item_type: String,
    pub usage_type: String,
}

/// Both sides of the month.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    pub buckets: BTreeMap<BucketKey, Bucket>,
    pub unmapped: BTreeMap<UnmappedKey, Unmapped>,
    pub non_usage: BTreeMap<NonUsageKey, BilledSide>,
}

/// The token kinds in the order of [`LedgerRow::tokens`].
const KINDS: [TokenKind; 5] = [
    TokenKind::Input,
    TokenKind::Output,
    TokenKind::CacheRead,
    TokenKind::CacheWrite5m,
    TokenKind::CacheWrite1h,
];

/// Puts the ledger rows and the billed lines on their keys.
pub fn compare(ledger: &[LedgerRow], lines: &[CurLine], map: &UsageTypeMap) -> Comparison {
    let mut comparison = Comparison::default();
    for row in ledger {
        for (k, kind) in KINDS.into_iter().enumerate() {
            if row.tokens[k] == 0 && row.costs[k] == 0 {
                continue;
            }
            let key = BucketKey {
                account_id: row.account_id.clone(),
                region: row.region.clone(),
                model: row.model.clone(),
                kind,
                scope: row.scope,
                tier: row.tier.clone(),
            };
            let side = comparison
                .buckets
                .entry(key)
                .or_default()
                .ledger
                .get_or_insert_default();
            side.tokens += row.tokens[k];
            side.cost += row.costs[k];
            *side.by_identity.entry(row.charged.clone()).or_default() += row.costs[k];
        }
    }
    for line in lines {
        if line.line_item_type != USAGE {
            let key = NonUsageKey {
                account_id: line.account_id.clone(),
                region: line.region.clone(),
                line_item_type: line.line_item_type.clone(),
                usage_type: line.usage_type.clone(),
            };
            comparison.non_usage.entry(key).or_default().add(line);
            continue;
        }
        match map.map(
            &line.usage_type,
            line.product_name.as_deref(),
            line.feature.as_deref(),
        ) {
            Ok(mapped) => {
                let key = BucketKey {
                    account_id: line.account_id.clone(),
                    region: line.region.clone(),
                    model: mapped.model,
                    kind: mapped.kind,
                    scope: mapped.scope,
                    tier: mapped.tier,
                };
                let bucket = comparison.buckets.entry(key).or_default();
                bucket.billed.get_or_insert_default().add(line);
            }
            Err(reason) => {
                let key = UnmappedKey {
                    account_id: line.account_id.clone(),
                    region: line.region.clone(),
                    usage_type: line.usage_type.clone(),
                    product_name: line.product_name.clone().unwrap_or_default(),
                };
                comparison
                    .unmapped
                    .entry(key)
                    .or_insert_with(|| Unmapped {
                        reason,
                        billed: BilledSide::default(),
                    })
                    .billed
                    .add(line);
            }
        }
    }
    comparison
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::bucket::Scope;

    fn charged(identity: &str) -> Charged {
        Charged {
            team: "web".into(),
            cost_center: "CC-1".into(),
            identity: identity.into(),
            end_user: String::new(),
        }
    }

    fn line(line_item_type: &str, usage_type: &str, product: Option<&str>, cost: i128) -> CurLine {
        CurLine {
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            line_item_type: line_item_type.into(),
            usage_type: usage_type.into(),
            product_name: product.map(Into::into),
            feature: None,
            description: String::new(),
            pricing_unit: "Units".into(),
            cost,
            usage_amount: 1,
        }
    }

    #[test]
    fn puts_each_side_on_its_key_and_drops_nothing() {
        const HAIKU: &str = "anthropic.claude-haiku-4-5-20251001-v1:0";
        const HAIKU_NAME: &str = "Claude Haiku 4.5 (Amazon Bedrock Edition)";
        let ledger_row = |identity: &str, input_cost: i128| LedgerRow {
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            model: HAIKU.into(),
            scope: Scope::Global,
            tier: "standard".into(),
            charged: charged(identity),
            tokens: [10, 0, 0, 0, 5],
            costs: [input_cost, 0, 0, 0, 7],
        };
        let ledger = [ledger_row("alice", 100), ledger_row("bob", 300)];
        let lines = [
            line(
                "Usage",
                "USE1-MP:USE1_InputTokenCount_Global-Units",
                Some(HAIKU_NAME),
                410,
            ),
            line(
                "Usage",
                "USE1-MP:USE1_InputTokenCount_Global-Units",
                Some(HAIKU_NAME),
                2,
            ),
            line(
                "Usage",
                "USE1-MP:USE1_OutputTokenCount-Units",
                Some(HAIKU_NAME),
                50,
            ),
            line("Usage", "USE1-NovaCanvas-T2I-1024-Standard", None, 40),
            line(
                "Credit",
                "USE1-MP:USE1_InputTokenCount_Global-Units",
                Some(HAIKU_NAME),
                -9,
            ),
        ];
        let comparison = compare(&ledger, &lines, &UsageTypeMap::built_in());

        let key = |kind, scope| BucketKey {
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            model: HAIKU.into(),
            kind,
            scope,
            tier: "standard".into(),
        };
        let input = &comparison.buckets[&key(TokenKind::Input, Scope::Global)];
        let ledger = input.ledger.as_ref().unwrap();
        assert_eq!((ledger.tokens, ledger.cost), (20, 400));
        assert_eq!(
            ledger.by_identity.values().copied().collect::<Vec<_>>(),
            [100, 300]
        );
        let billed = input.billed.as_ref().unwrap();
        assert_eq!((billed.cost, billed.usage_amount), (412, 2));
        // 1-hour writes billed nowhere: the ledger's side alone.
        let writes = &comparison.buckets[&key(TokenKind::CacheWrite1h, Scope::Global)];
        assert_eq!(writes.ledger.as_ref().unwrap().cost, 14);
        assert!(writes.billed.is_none());
        // Regional output billed, nothing in the ledger.
        let output = &comparison.buckets[&key(TokenKind::Output, Scope::Regional)];
        assert!(output.ledger.is_none());
        assert_eq!(output.billed.as_ref().unwrap().cost, 50);
        assert_eq!(comparison.buckets.len(), 3);

        let unmapped: Vec<(&str, &str, i128)> = comparison
            .unmapped
            .iter()
            .map(|(k, u)| (k.usage_type.as_str(), u.reason.as_str(), u.billed.cost))
            .collect();
        assert_eq!(
            unmapped,
            [("USE1-NovaCanvas-T2I-1024-Standard", "not a token price", 40)]
        );
        let non_usage: Vec<(&str, i128)> = comparison
            .non_usage
            .iter()
            .map(|(k, b)| (k.line_item_type.as_str(), b.cost))
            .collect();
        assert_eq!(non_usage, [("Credit", -9)]);
        let billed_total: i128 = comparison
            .buckets
            .values()
            .filter_map(|b| b.billed.as_ref())
            .chain(comparison.unmapped.values().map(|u| &u.billed))
            .chain(comparison.non_usage.values())
            .map(|b| b.cost)
            .sum();
        assert_eq!(billed_total, lines.iter().map(|l| l.cost).sum::<i128>());
    }
}
