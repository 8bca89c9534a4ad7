//! Merging imported rates into a price book, and saying what changed.
//!
//! A book is a history: every key (model, scope, region, tier) has rows by `effective_from`, and
//! old requests keep the rate of their day. So a merge never deletes a row. For each imported
//! row, compared with the latest current row of its key:
//! - no current row: **added**;
//! - same rates: **unchanged** (the current row, with its source, stays as it is);
//! - other rates, imported date later: **changed**, a new row from the imported date;
//! - other rates, imported date not later: **changed**, the current row's rates are corrected
//!   in place (the offer is the source of record; the diff shows old and new).
//!
//! Current keys of a model the import covers, that the import does not have, are listed as
//! **not in the offers** and kept.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::book::{PriceBook, PriceRow, Rates, RowKey, format_rate};

/// The outcome of a merge: the new book's rows and what changed.
#[derive(Debug, Default)]
pub struct Merge {
    pub rows: Vec<PriceRow>,
    pub added: Vec<PriceRow>,
    /// (current, imported)
    pub changed: Vec<(PriceRow, PriceRow)>,
    pub unchanged: usize,
    /// Latest current rows of keys the import does not have, for models it covers.
    pub not_in_offers: Vec<PriceRow>,
}

/// Merges `imported` (at most one row per key) into `current`.
pub fn merge(current: &PriceBook, imported: Vec<PriceRow>) -> Merge {
    let mut history: BTreeMap<RowKey, Vec<PriceRow>> = BTreeMap::new();
    for row in current.rows() {
        history.entry(row.key()).or_default().push(row.clone());
    }
    let covered_models: BTreeSet<String> = imported.iter().map(|r| r.model.clone()).collect();
    let imported_keys: BTreeSet<RowKey> = imported.iter().map(PriceRow::key).collect();
    let mut merge = Merge::default();
    for new in imported {
        let rows = history.entry(new.key()).or_default();
        let Some(latest) = rows.last_mut() else {
            merge.added.push(new.clone());
            rows.push(new);
            continue;
        };
        if same_rates(latest, &new) {
            merge.unchanged += 1;
            continue;
        }
        merge.changed.push((latest.clone(), new.clone()));
        if new.effective_from > latest.effective_from {
            rows.push(new);
        } else {
            let effective_from = latest.effective_from;
            *latest = PriceRow {
                effective_from,
                ..new
            };
        }
    }
    for (key, rows) in &history {
        if covered_models.contains(&key.model) && !imported_keys.contains(key) {
            merge
                .not_in_offers
                .push(rows.last().expect("a key has rows").clone());
        }
    }
    merge.rows = history.into_values().flatten().collect();
    merge
}

fn same_rates(a: &PriceRow, b: &PriceRow) -> bool {
    a.standard == b.standard && a.long_context == b.long_context
}

impl Merge {
    /// The diff for a person to review, one line per row.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let key = |row: &PriceRow| {
            format!(
                "{} {} {} {}",
                row.model,
                row.scope.as_str(),
                row.region.as_str(),
                row.tier
            )
        };
        for row in &self.added {
            let _ = writeln!(
                out,
                "added    {} from {}: {}",
                key(row),
                row.effective_from,
                describe_rates(row)
            );
        }
        for (old, new) in &self.changed {
            let _ = writeln!(
                out,
                "changed  {} from {}: {}  (was {} from {})",
                key(new),
                new.effective_from.max(old.effective_from),
                describe_rates(new),
                describe_rates(old),
                old.effective_from
            );
        }
        for row in &self.not_in_offers {
            let _ = writeln!(
                out,
                "gone     {}: not in the offers; kept for the dates it covers (last {} from {})",
                key(row),
                describe_rates(row),
                row.effective_from
            );
        }
        let _ = writeln!(
            out,
            "{} added, {} changed, {} unchanged, {} not in the offers",
            self.added.len(),
            self.changed.len(),
            self.unchanged,
            self.not_in_offers.len()
        );
        out
    }
}

/// `in 3 / out 15 / read 0.3 / write 3.75 / 1h 6 [>200000: in 6 / ...]`.
pub fn describe_rates(row: &PriceRow) -> String {
    let rates = |r: &Rates| {
        let optional = |rate: Option<i128>| rate.map_or("-".to_owned(), format_rate);
        format!(
            "in {} / out {} / read {} / write {} / 1h {}",
            format_rate(r.input),
            format_rate(r.output),
            optional(r.cache_read),
            optional(r.cache_write_5m),
            optional(r.cache_write_1h)
        )
    };
    match &row.long_context {
        Some((threshold, long)) => {
            format!("{} [>{threshold}: {}]", rates(&row.standard), rates(long))
        }
        None => rates(&row.standard),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "model,scope,region,effective_from,input,output,cache_read,cache_write_5m,cache_write_1h,long_context_threshold,lc_input,lc_output,lc_cache_read,lc_cache_write_5m,lc_cache_write_1h,source";

    fn rows(lines: &[&str]) -> Vec<PriceRow> {
        book(lines).rows().into_iter().cloned().collect()
    }

    fn book(lines: &[&str]) -> PriceBook {
        PriceBook::from_csv(format!("{HEADER}\n{}\n", lines.join("\n")).as_bytes()).unwrap()
    }

    #[test]
    fn keeps_history_and_says_what_changed() {
        let current = book(&[
            "a,*,*,2024-01-01,1,2,,,,,,,,,,book",
            "b,*,*,2024-01-01,1,2,,,,,,,,,,book",
            "b,*,*,2025-01-01,0.5,1,,,,,,,,,,book",
            "c,*,*,2025-06-01,3,4,,,,,,,,,,book",
            "c,*,eu-west-1,2025-06-01,3.3,4.4,,,,,,,,,,book",
            "untouched,*,*,2024-01-01,9,9,,,,,,,,,,book",
        ]);
        let imported = rows(&[
            // a: same rates as the book, later date: unchanged
            "a,*,*,2026-01-01,1,2,,,,,,,,,,offer",
            // b: a cut after the book's last row: a new row
            "b,*,*,2026-02-01,0.25,1,,,,,,,,,,offer",
            // c: the offer disagrees with a row of the same date: corrected in place
            "c,*,*,2025-06-01,3,4.5,,,,,,,,,,offer",
            // d: new
            "d,global,*,2026-03-01,1,1,0.1,,,,,,,,,offer",
        ]);
        let merge = merge(&current, imported);
        let written: Vec<String> = merge
            .rows
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {} {}",
                    r.reference(),
                    format_rate(r.standard.input),
                    format_rate(r.standard.output),
                    r.source,
                    r.effective_from
                )
            })
            .collect();
        assert_eq!(
            written,
            [
                "a|*|*|2024-01-01 1 2 book 2024-01-01",
                "b|*|*|2024-01-01 1 2 book 2024-01-01",
                "b|*|*|2025-01-01 0.5 1 book 2025-01-01",
                "b|*|*|2026-02-01 0.25 1 offer 2026-02-01",
                "c|*|*|2025-06-01 3 4.5 offer 2025-06-01",
                "c|*|eu-west-1|2025-06-01 3.3 4.4 book 2025-06-01",
                "d|global|*|2026-03-01 1 1 offer 2026-03-01",
                "untouched|*|*|2024-01-01 9 9 book 2024-01-01",
            ]
        );
        assert_eq!(merge.unchanged, 1);
        let diff = merge.describe();
        assert_eq!(
            diff,
            "added    d global * standard from 2026-03-01: in 1 / out 1 / read 0.1 / write - / 1h -\n\
             changed  b * * standard from 2026-02-01: in 0.25 / out 1 / read - / write - / 1h -  (was in 0.5 / out 1 / read - / write - / 1h - from 2025-01-01)\n\
             changed  c * * standard from 2025-06-01: in 3 / out 4.5 / read - / write - / 1h -  (was in 3 / out 4 / read - / write - / 1h - from 2025-06-01)\n\
             gone     c * eu-west-1 standard: not in the offers; kept for the dates it covers (last in 3.3 / out 4.4 / read - / write - / 1h - from 2025-06-01)\n\
             1 added, 2 changed, 1 unchanged, 1 not in the offers\n"
        );
    }
}
