//! The reconciliation as finance reads it: the comparison CSV, the allocation CSV and a short
//! summary for stderr. Money is printed in micro-dollars (6 decimals), each amount rounded once
//! from its exact value, half to even, as the chargeback prints it; a variance is the printed
//! billed amount minus the printed ledger amount, and its percentage is computed from the exact
//! amounts.

use std::collections::BTreeMap;

use super::allocate::{AllocationRow, Status, Target};
use super::bucket::{BucketKey, kind_name};
use super::compare::{BilledSide, Comparison};
use super::money::percent;
use crate::pricing::{format_micros, round_to_micros};

/// The comparison CSV's header, in order.
pub const RECONCILE_HEADER: [&str; 18] = [
    "month",
    "status",
    "account_id",
    "region",
    "model",
    "token_kind",
    "scope",
    "tier",
    "line_item_type",
    "usage_types",
    "pricing_unit",
    "billed_usage_amount",
    "ledger_tokens",
    "ledger_usd",
    "billed_usd",
    "variance_usd",
    "variance_pct",
    "note",
];

/// The allocation CSV's header, in order.
pub const ALLOCATION_HEADER: [&str; 15] = [
    "month",
    "status",
    "team",
    "cost_center",
    "identity",
    "end_user",
    "account_id",
    "region",
    "model",
    "token_kind",
    "scope",
    "tier",
    "usage_types",
    "ledger_usd",
    "allocated_usd",
];

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

fn finish(writer: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, csv::Error> {
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

fn joined<'a>(values: impl IntoIterator<Item = &'a String>) -> String {
    values
        .into_iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(";")
}

/// 10⁻¹² units as a plain decimal without trailing zeros: `1.5`, `0.000125`, `3`.
fn format_amount(picos: i128) -> String {
    let sign = if picos < 0 { "-" } else { "" };
    let abs = picos.unsigned_abs();
    let (whole, fraction) = (abs / 1_000_000_000_000, abs % 1_000_000_000_000);
    let fraction = format!("{fraction:012}");
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

fn key_cells(key: &BucketKey) -> [String; 6] {
    [
        key.account_id.clone(),
        key.region.clone(),
        key.model.clone(),
        kind_name(key.kind).to_owned(),
        key.scope.name().to_owned(),
        key.tier.clone(),
    ]
}

fn billed_cells(billed: &BilledSide) -> [String; 3] {
    [
        joined(&billed.usage_types),
        joined(&billed.pricing_units),
        format_amount(billed.usage_amount),
    ]
}

/// A comparison row of billed cost that no bucket holds: no model, token kind, scope or tier,
/// no ledger side; `[account, region, line item type]` and the billed side.
fn billed_only_record(
    month: &str,
    status: &str,
    [account_id, region, line_item_type]: [&str; 3],
    billed: &BilledSide,
    note: String,
) -> Vec<String> {
    let mut record = vec![
        month.to_owned(),
        status.to_owned(),
        account_id.to_owned(),
        region.to_owned(),
    ];
    record.extend([String::new(), String::new(), String::new(), String::new()]);
    record.push(line_item_type.to_owned());
    record.extend(billed_cells(billed));
    record.extend([
        String::new(),
        String::new(),
        format_micros(round_to_micros(billed.cost)),
        String::new(),
        String::new(),
        note,
    ]);
    record
}

/// The comparison: one row per bucket (`compared`, `ledger_only`, `billed_only`), then one
/// per unmapped usage type (`unmapped`, with the reason in `note`), then one per other line
/// item type and usage type (`non_usage`).
pub fn reconcile_csv(month: &str, comparison: &Comparison) -> Result<Vec<u8>, csv::Error> {
    let mut out = writer();
    out.write_record(RECONCILE_HEADER)?;
    for (key, bucket) in &comparison.buckets {
        let ledger = bucket.ledger.as_ref().map_or(0, |l| l.cost);
        let billed = bucket.billed.as_ref().map_or(0, |b| b.cost);
        let (status, note) = match (&bucket.ledger, &bucket.billed) {
            (Some(_), Some(_)) => ("compared", ""),
            (Some(_), None) => ("ledger_only", "priced in the ledger, not billed"),
            (None, _) => ("billed_only", "billed, no priced requests: not allocated"),
        };
        let mut record = vec![month.to_owned(), status.to_owned()];
        record.extend(key_cells(key));
        record.push(if bucket.billed.is_some() { "Usage" } else { "" }.to_owned());
        record.extend(
            bucket
                .billed
                .as_ref()
                .map_or_else(Default::default, billed_cells),
        );
        record.push(
            bucket
                .ledger
                .as_ref()
                .map_or_else(String::new, |l| l.tokens.to_string()),
        );
        let (ledger_micros, billed_micros) = (round_to_micros(ledger), round_to_micros(billed));
        record.extend([
            format_micros(ledger_micros),
            format_micros(billed_micros),
            format_micros(billed_micros - ledger_micros),
            percent(billed - ledger, ledger).unwrap_or_default(),
            note.to_owned(),
        ]);
        out.write_record(&record)?;
    }
    for (key, unmapped) in &comparison.unmapped {
        out.write_record(billed_only_record(
            month,
            "unmapped",
            [&key.account_id, &key.region, "Usage"],
            &unmapped.billed,
            unmapped.reason.clone(),
        ))?;
    }
    for (key, billed) in &comparison.non_usage {
        let descriptions: Vec<&str> = billed.descriptions.iter().map(String::as_str).collect();
        out.write_record(billed_only_record(
            month,
            "non_usage",
            [&key.account_id, &key.region, &key.line_item_type],
            billed,
            descriptions.join("; "),
        ))?;
    }
    finish(out)
}

/// The allocation: identities' shares of each bucket, then the unallocated and unmapped
/// amounts. Its `allocated_usd` adds up to the billed usage of the comparison, bucket by
/// bucket.
pub fn allocation_csv(month: &str, rows: &[AllocationRow]) -> Result<Vec<u8>, csv::Error> {
    let mut out = writer();
    out.write_record(ALLOCATION_HEADER)?;
    for row in rows {
        let mut record = vec![month.to_owned(), row.status.name().to_owned()];
        match &row.charged {
            Some(charged) => record.extend([
                charged.team.clone(),
                charged.cost_center.clone(),
                charged.identity.clone(),
                charged.end_user.clone(),
            ]),
            None => record.extend([String::new(), String::new(), String::new(), String::new()]),
        }
        match &row.target {
            Target::Bucket(key) => record.extend(key_cells(key)),
            Target::Unmapped(key) => record.extend([
                key.account_id.clone(),
                key.region.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]),
        }
        record.push(joined(&row.usage_types));
        record.push(if row.charged.is_some() {
            format_micros(round_to_micros(row.ledger))
        } else {
            String::new()
        });
        record.push(format_micros(row.allocated));
        out.write_record(&record)?;
    }
    finish(out)
}

/// A few lines for stderr: the totals, and loudly what is unmapped and unallocated.
pub fn summary(month: &str, comparison: &Comparison, rows: &[AllocationRow]) -> String {
    let micros = |picos: i128| round_to_micros(picos);
    let billed_sides = comparison
        .buckets
        .values()
        .filter_map(|b| b.billed.as_ref());
    let mapped: i128 = billed_sides.clone().map(|b| micros(b.cost)).sum();
    let mapped_exact: i128 = billed_sides.map(|b| b.cost).sum();
    let ledger_sides = comparison
        .buckets
        .values()
        .filter_map(|b| b.ledger.as_ref());
    let ledger: i128 = ledger_sides.clone().map(|l| micros(l.cost)).sum();
    let ledger_exact: i128 = ledger_sides.map(|l| l.cost).sum();
    let unmapped: i128 = comparison
        .unmapped
        .values()
        .map(|u| micros(u.billed.cost))
        .sum();
    let mut by_type: BTreeMap<&str, i128> = BTreeMap::new();
    for (key, billed) in &comparison.non_usage {
        *by_type.entry(key.line_item_type.as_str()).or_default() += micros(billed.cost);
    }
    let others = if by_type.is_empty() {
        "none".to_owned()
    } else {
        by_type
            .iter()
            .map(|(kind, cost)| format!("{kind} {}", format_micros(*cost)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let pct = percent(mapped_exact - ledger_exact, ledger_exact)
        .map_or_else(String::new, |p| format!(" ({p}% of the ledger)"));
    let mut text = format!(
        "reconcile {month}: billed usage {} USD ({} mapped to {} bucket(s), {} unmapped), ledger {} USD, variance {} USD{pct}; other line items (not compared): {others}\n",
        format_micros(mapped + unmapped),
        format_micros(mapped),
        comparison.buckets.len(),
        format_micros(unmapped),
        format_micros(ledger),
        format_micros(mapped - ledger),
    );
    if !comparison.unmapped.is_empty() {
        text += &format!(
            "WARNING: {} billed usage type(s), {} USD, map to no model and token kind (rows `unmapped`):\n",
            comparison.unmapped.len(),
            format_micros(unmapped)
        );
        for (key, u) in &comparison.unmapped {
            text += &format!(
                "  {} {} {}: {} USD ({})\n",
                key.account_id,
                key.region,
                key.usage_type,
                format_micros(micros(u.billed.cost)),
                u.reason
            );
        }
    }
    let unallocated: Vec<&AllocationRow> = rows
        .iter()
        .filter(|r| r.status == Status::Unallocated)
        .collect();
    if !unallocated.is_empty() {
        let total: i128 = unallocated.iter().map(|r| r.allocated).sum();
        text += &format!(
            "WARNING: {} billed bucket(s), {} USD, have no priced requests to share them by and are NOT allocated:\n",
            unallocated.len(),
            format_micros(total)
        );
        for row in unallocated {
            if let Target::Bucket(key) = &row.target {
                text += &format!(
                    "  {}: {} USD\n",
                    key_cells(key).join(" "),
                    format_micros(row.allocated)
                );
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::reconcile::allocate::allocate;
    use crate::reconcile::bucket::{Scope, TokenKind};
    use crate::reconcile::compare::{Bucket, LedgerSide, NonUsageKey, Unmapped, UnmappedKey};
    use crate::reconcile::ledger::Charged;

    #[test]
    fn formats_amounts_without_trailing_zeros() {
        let cases: &[(i128, &str)] = &[
            (0, "0"),
            (1_500_000_000_000, "1.5"),
            (125_000_000, "0.000125"),
            (3_000_000_000_000, "3"),
            (-1, "-0.000000000001"),
        ];
        for (picos, text) in cases {
            assert_eq!(format_amount(*picos), *text);
        }
    }

    fn comparison() -> Comparison {
        let key = |model: &str, kind| BucketKey {
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            model: model.into(),
            kind,
            scope: Scope::Regional,
            tier: "standard".into(),
        };
        let billed = |usage_type: &str, picos: i128| BilledSide {
            cost: picos,
            usage_amount: 55_000_000_000,
            pricing_units: ["1K tokens".to_owned()].into(),
            usage_types: [usage_type.to_owned()].into(),
            descriptions: ["a description".to_owned()].into(),
        };
        let ledger = |picos: i128| LedgerSide {
            tokens: 55,
            cost: picos,
            by_identity: [(
                Charged {
                    team: "web, ads".into(),
                    cost_center: "CC-1".into(),
                    identity: "arn:aws:iam::1:user/a".into(),
                    end_user: String::new(),
                },
                picos,
            )]
            .into(),
        };
        Comparison {
            buckets: BTreeMap::from([
                (
                    key("m", TokenKind::Input),
                    Bucket {
                        ledger: Some(ledger(3_300_000)),
                        billed: Some(billed("USE1-M-input-tokens", 3_600_000)),
                    },
                ),
                (
                    key("m", TokenKind::Output),
                    Bucket {
                        ledger: Some(ledger(1_000_000)),
                        billed: None,
                    },
                ),
                (
                    key("n", TokenKind::Input),
                    Bucket {
                        ledger: None,
                        billed: Some(billed("USE1-N-input-tokens", 2_000_000)),
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
                    billed: billed("USE1-NovaCanvas-T2I", 40_000_000),
                },
            )]),
            non_usage: BTreeMap::from([(
                NonUsageKey {
                    account_id: "111122223333".into(),
                    region: String::new(),
                    line_item_type: "Credit".into(),
                    usage_type: String::new(),
                },
                BilledSide {
                    cost: -50_000_000_000,
                    descriptions: ["AWS Activate credits".to_owned()].into(),
                    ..BilledSide::default()
                },
            )]),
        }
    }

    #[test]
    fn renders_every_kind_of_row() {
        let comparison = comparison();
        let csv = String::from_utf8(reconcile_csv("2026-10", &comparison).unwrap()).unwrap();
        assert_eq!(
            csv,
            "month,status,account_id,region,model,token_kind,scope,tier,line_item_type,usage_types,pricing_unit,billed_usage_amount,ledger_tokens,ledger_usd,billed_usd,variance_usd,variance_pct,note\r\n\
             2026-10,compared,111122223333,us-east-1,m,input,regional,standard,Usage,USE1-M-input-tokens,1K tokens,0.055,55,0.000003,0.000004,0.000001,9.09,\r\n\
             2026-10,ledger_only,111122223333,us-east-1,m,output,regional,standard,,,,,55,0.000001,0.000000,-0.000001,-100.00,\"priced in the ledger, not billed\"\r\n\
             2026-10,billed_only,111122223333,us-east-1,n,input,regional,standard,Usage,USE1-N-input-tokens,1K tokens,0.055,,0.000000,0.000002,0.000002,,\"billed, no priced requests: not allocated\"\r\n\
             2026-10,unmapped,111122223333,us-east-1,,,,,Usage,USE1-NovaCanvas-T2I,1K tokens,0.055,,,0.000040,,,not a token price\r\n\
             2026-10,non_usage,111122223333,,,,,,Credit,,,0,,,-0.050000,,,AWS Activate credits\r\n"
        );

        let rows = allocate(&comparison).unwrap();
        let csv = String::from_utf8(allocation_csv("2026-10", &rows).unwrap()).unwrap();
        assert_eq!(
            csv,
            "month,status,team,cost_center,identity,end_user,account_id,region,model,token_kind,scope,tier,usage_types,ledger_usd,allocated_usd\r\n\
             2026-10,allocated,\"web, ads\",CC-1,arn:aws:iam::1:user/a,,111122223333,us-east-1,m,input,regional,standard,USE1-M-input-tokens,0.000003,0.000004\r\n\
             2026-10,not_billed,\"web, ads\",CC-1,arn:aws:iam::1:user/a,,111122223333,us-east-1,m,output,regional,standard,,0.000001,0.000000\r\n\
             2026-10,unallocated,,,,,111122223333,us-east-1,n,input,regional,standard,USE1-N-input-tokens,,0.000002\r\n\
             2026-10,unmapped,,,,,111122223333,us-east-1,,,,,USE1-NovaCanvas-T2I,,0.000040\r\n"
        );

        assert_eq!(
            summary("2026-10", &comparison, &rows),
            "reconcile 2026-10: billed usage 0.000046 USD (0.000006 mapped to 3 bucket(s), 0.000040 unmapped), ledger 0.000004 USD, variance 0.000002 USD (30.23% of the ledger); other line items (not compared): Credit -0.050000\n\
             WARNING: 1 billed usage type(s), 0.000040 USD, map to no model and token kind (rows `unmapped`):\n  \
             111122223333 us-east-1 USE1-NovaCanvas-T2I: 0.000040 USD (not a token price)\n\
             WARNING: 1 billed bucket(s), 0.000002 USD, have no priced requests to share them by and are NOT allocated:\n  \
             111122223333 us-east-1 n input regional standard: 0.000002 USD\n"
        );
    }
}
