//! What Athena needs to query the dataset, written once and used twice: printed as DDL by
//! `athena ddl`, and registered in the Glue Data Catalog by `athena register`.
//!
//! - The three Delta tables (`invocations`, `rejects`, `ledger_entries`), read natively by
//!   Athena engine 3: no column list, the schema and the live files come from the Delta log.
//! - With a teams file or a profile map, attribution as the local engine decides it
//!   ([`crate::attribution`]): a `teams` table of the `--teams` rules (each glob also written as the anchored regular expression Athena's
//!   `regexp_like` matches with, and its rule number: the first match wins), a `profile_teams`
//!   table of the `--profiles` team tags, both CSV files under `<dataset>/athena/`, and the
//!   `charged_invocations` view joining them to `invocations`, and `charged_daily_usage`
//!   summing that view per day.
//! - The `daily_usage` view: `invocations` summed per day and report key, which the named
//!   queries read. Athena computes it from the requests rather than reading the stored rollup,
//!   which only the local engine can tell current or stale ([`crate::dataset::rollup`]).
//! - The `ingested_objects` view: the ledger entry in force of every object.

use arrow::datatypes::SchemaRef;
use url::Url;

use super::AthenaError;
use crate::attribution::{RuleSubject, TeamRules, UNALLOCATED};
use crate::dataset::ledger::LATEST_ENTRIES;
use crate::dataset::rollup::{DAILY_USAGE, daily_usage_select};
use crate::dataset::tables::{Table, invocations_table_schema};
use crate::normalize::ProfileMap;

/// Where a table's files are and how they are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableFormat {
    /// A Delta table, with the schema its log holds (the catalog keeps a copy).
    Delta { schema: SchemaRef },
    /// CSV files with a header line; every column a string.
    Csv { columns: &'static [&'static str] },
}

/// A table to register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableDef {
    pub name: &'static str,
    /// `s3://…/` (a directory: Athena reads every file under it).
    pub location: String,
    pub format: TableFormat,
}

/// A view to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewDef {
    pub name: &'static str,
    /// The view's query.
    pub select: String,
}

/// A file the tables read, to upload under the dataset root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RulesFile {
    /// Relative to the dataset root.
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Everything Athena needs for one dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AthenaCatalog {
    pub database: String,
    pub tables: Vec<TableDef>,
    pub views: Vec<ViewDef>,
    pub files: Vec<RulesFile>,
}

const TEAMS_COLUMNS: &[&str] = &[
    "rule",
    "pattern",
    "metadata_key",
    "regex",
    "team",
    "cost_center",
];
const PROFILE_TEAMS_COLUMNS: &[&str] = &["arn", "team", "cost_center"];

/// What decides a request's team: the rules of a teams file and the team tags of profiles.
#[derive(Clone, Copy, Debug)]
pub struct Attribution<'a> {
    pub teams: &'a TeamRules,
    pub profiles: &'a ProfileMap,
}

impl AthenaCatalog {
    /// The catalog of the dataset at `root` (`s3://bucket/prefix/`) in `database`, with the
    /// `charged_invocations` view and its tables when an `attribution` is given.
    pub fn plan(
        root: &Url,
        database: &str,
        attribution: Option<Attribution>,
    ) -> Result<Self, AthenaError> {
        check_database(database)?;
        if root.scheme() != "s3" {
            return Err(AthenaError::Invalid(format!(
                "Athena reads tables in S3; {root} is not an s3:// location"
            )));
        }
        if root.as_str().contains('\'') {
            return Err(AthenaError::Invalid(format!(
                "{root}: a location with a quote cannot be written into Athena DDL"
            )));
        }
        let location = |relative: &str| format!("{}{relative}/", root.as_str());
        let delta = |name: &'static str, table: Table| TableDef {
            name,
            location: location(table.name()),
            format: TableFormat::Delta {
                schema: table.schema(),
            },
        };
        let csv = |name: &'static str, columns| TableDef {
            name,
            location: location(&format!("athena/{name}")),
            format: TableFormat::Csv { columns },
        };
        let mut tables = vec![
            delta("invocations", Table::Invocations),
            delta("rejects", Table::Rejects),
            delta("ledger_entries", Table::Ledger),
        ];
        let mut views = vec![
            ViewDef {
                name: DAILY_USAGE,
                select: daily_usage_select(&qualified(database, "invocations"), &[]),
            },
            ViewDef {
                name: "ingested_objects",
                select: LATEST_ENTRIES.replace(
                    "FROM entries",
                    &format!("FROM {}", qualified(database, "ledger_entries")),
                ),
            },
        ];
        let mut files = Vec::new();
        if let Some(Attribution { teams, profiles }) = attribution {
            tables.push(csv("teams", TEAMS_COLUMNS));
            tables.push(csv("profile_teams", PROFILE_TEAMS_COLUMNS));
            files.push(RulesFile {
                path: "athena/teams/teams.csv".to_owned(),
                bytes: teams_csv(teams)?,
            });
            files.push(RulesFile {
                path: "athena/profile_teams/profile_teams.csv".to_owned(),
                bytes: profile_teams_csv(profiles)?,
            });
            views.insert(
                0,
                ViewDef {
                    name: "charged_invocations",
                    select: charged_invocations_select(database, teams),
                },
            );
            views.insert(
                1,
                ViewDef {
                    name: "charged_daily_usage",
                    select: daily_usage_select(
                        &qualified(database, "charged_invocations"),
                        &["team", "cost_center", "end_user"],
                    ),
                },
            );
        }
        Ok(AthenaCatalog {
            database: database.to_owned(),
            tables,
            views,
            files,
        })
    }

    /// The `CREATE VIEW` statement of `view`, run through Athena (which records the view's
    /// column types itself).
    pub fn view_statement(&self, view: &ViewDef) -> String {
        format!(
            "CREATE OR REPLACE VIEW \"{}\".\"{}\" AS\n{}",
            self.database, view.name, view.select
        )
    }

    /// Every statement, in order, each ending with `;`, for Athena's query editor.
    pub fn ddl(&self) -> String {
        let db = &self.database;
        let mut out = format!("CREATE DATABASE IF NOT EXISTS `{db}`;\n");
        for table in &self.tables {
            out.push('\n');
            match &table.format {
                TableFormat::Delta { .. } => out.push_str(&format!(
                    "CREATE EXTERNAL TABLE IF NOT EXISTS `{db}`.`{}`\nLOCATION '{}'\nTBLPROPERTIES ('table_type' = 'DELTA');\n",
                    table.name, table.location
                )),
                TableFormat::Csv { columns } => {
                    let file = self
                        .files
                        .iter()
                        .find(|f| f.path.starts_with(&format!("athena/{}/", table.name)))
                        .map_or("", |f| f.path.as_str());
                    out.push_str(&format!(
                        "-- Its file, {file} under the dataset, is written by `bedrock-ledger athena register`.\n"
                    ));
                    let columns: Vec<String> =
                        columns.iter().map(|c| format!("`{c}` string")).collect();
                    out.push_str(&format!(
                        "CREATE EXTERNAL TABLE IF NOT EXISTS `{db}`.`{}` ({})\nROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'\nSTORED AS TEXTFILE\nLOCATION '{}'\nTBLPROPERTIES ('skip.header.line.count' = '1');\n",
                        table.name,
                        columns.join(", "),
                        table.location
                    ));
                }
            }
        }
        for view in &self.views {
            out.push('\n');
            out.push_str(&self.view_statement(view));
            out.push_str(";\n");
        }
        out
    }
}

/// Glue keeps database names in lower case; Athena wants letters, digits and underscores.
fn check_database(name: &str) -> Result<(), AthenaError> {
    let valid = !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(AthenaError::Invalid(format!(
            "{name:?} is not an Athena database name: use lower-case letters, digits and _"
        )))
    }
}

/// `invocations` with the `team`, `cost_center` and `end_user` the local engine would give each
/// row: the first `metadata:KEY=GLOB` rule matching the request's metadata (its value is the end
/// user), else the team tag of the request's application inference profile, else the first
/// identity rule matching the identity, else `UNALLOCATED`. The metadata keys the rules read are
/// written into the view, so `athena register` with a changed teams file replaces it.
fn charged_invocations_select(database: &str, teams: &TeamRules) -> String {
    let columns: Vec<String> = invocations_table_schema()
        .fields()
        .iter()
        .map(|f| format!("i.\"{}\"", f.name()))
        .collect();
    let keys = teams.metadata_keys();
    // Keys are letters, digits and `_-.:/@+` (checked when the teams file is read): safe in a
    // string literal and a JSON path.
    let extracted: String = keys
        .iter()
        .enumerate()
        .map(|(k, key)| {
            format!(
                ",\n      json_extract_scalar(v.request_metadata, '$[\"{key}\"]') AS metadata_{k}"
            )
        })
        .collect();
    let metadata_rule = if keys.is_empty() {
        "CAST(NULL AS INTEGER)".to_owned()
    } else {
        let matches: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(k, key)| {
                format!(
                    "(r.metadata_key = '{key}' AND w.metadata_{k} <> '' AND regexp_like(w.metadata_{k}, r.regex))"
                )
            })
            .collect();
        format!(
            "(SELECT min(CAST(r.rule AS INTEGER)) FROM {teams} r WHERE {})",
            matches.join(" OR "),
            teams = qualified(database, "teams"),
        )
    };
    let end_user = if keys.is_empty() {
        "''".to_owned()
    } else {
        let arms: String = keys
            .iter()
            .enumerate()
            .map(|(k, key)| format!(" WHEN m.metadata_key = '{key}' THEN i.metadata_{k}"))
            .collect();
        format!("CASE{arms} ELSE '' END")
    };
    format!(
        "SELECT {},\n  \
           CASE WHEN m.team IS NOT NULL THEN m.team WHEN p.team IS NOT NULL THEN p.team\n    \
             WHEN t.team IS NOT NULL THEN t.team ELSE '{UNALLOCATED}' END AS team,\n  \
           CASE WHEN m.team IS NOT NULL THEN m.cost_center WHEN p.team IS NOT NULL THEN p.cost_center\n    \
             WHEN t.team IS NOT NULL THEN t.cost_center ELSE '' END AS cost_center,\n  \
           {end_user} AS end_user\n\
         FROM (\n  \
           SELECT w.*,\n    \
             {metadata_rule} AS metadata_rule,\n    \
             (SELECT min(CAST(r.rule AS INTEGER)) FROM {teams} r WHERE r.metadata_key = '' AND regexp_like(w.identity, r.regex)) AS team_rule\n  \
           FROM (\n    \
             SELECT v.*{extracted}\n    \
             FROM {invocations} v\n  \
           ) w\n\
         ) i\n\
         LEFT JOIN {teams} m ON CAST(m.rule AS INTEGER) = i.metadata_rule\n\
         LEFT JOIN {teams} t ON CAST(t.rule AS INTEGER) = i.team_rule\n\
         LEFT JOIN {profile_teams} p ON p.arn = i.model_id",
        columns.join(", "),
        teams = qualified(database, "teams"),
        invocations = qualified(database, "invocations"),
        profile_teams = qualified(database, "profile_teams"),
    )
}

/// `"database"."table"`: a view names its tables in full, so that it reads the same ones
/// whatever database the query that uses it runs in.
fn qualified(database: &str, table: &str) -> String {
    format!("\"{database}\".\"{table}\"")
}

/// The teams rules as the `teams` table holds them.
fn teams_csv(teams: &TeamRules) -> Result<Vec<u8>, AthenaError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| AthenaError::Invalid(format!("writing the teams table: {e}"));
    writer.write_record(TEAMS_COLUMNS).map_err(csv_error)?;
    for (index, rule) in teams.rules().enumerate() {
        let number = (index + 1).to_string();
        let regex = glob_regex(rule.glob);
        let metadata_key = match rule.subject {
            RuleSubject::Identity => "",
            RuleSubject::Metadata(key) => key,
        };
        writer
            .write_record([
                number.as_str(),
                rule.pattern,
                metadata_key,
                &regex,
                rule.team,
                rule.cost_center,
            ])
            .map_err(csv_error)?;
    }
    writer
        .into_inner()
        .map_err(|e| AthenaError::Invalid(format!("writing the teams table: {e}")))
}

/// The team tags of the application inference profiles, as the `profile_teams` table holds them.
fn profile_teams_csv(profiles: &ProfileMap) -> Result<Vec<u8>, AthenaError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let csv_error =
        |e: csv::Error| AthenaError::Invalid(format!("writing the profile_teams table: {e}"));
    writer
        .write_record(PROFILE_TEAMS_COLUMNS)
        .map_err(csv_error)?;
    for (arn, team, cost_center) in profiles.team_tags() {
        writer
            .write_record([arn, team, cost_center])
            .map_err(csv_error)?;
    }
    writer
        .into_inner()
        .map_err(|e| AthenaError::Invalid(format!("writing the profile_teams table: {e}")))
}

/// A `glob` pattern (`*`, `?`, `[a-z]`, `[!a]`, as [`glob::Pattern`] reads them with its default
/// options, where `*` also matches `/`) as an anchored regular expression with the same
/// matches, in the syntax Java and Athena's `regexp_like` share.
pub fn glob_regex(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::from("^");
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => match class_end(&chars, i) {
                Some(end) => {
                    out.push_str(&class_regex(&chars[i + 1..end]));
                    i = end;
                }
                None => out.push_str("\\["),
            },
            c => push_literal(&mut out, c),
        }
        i += 1;
    }
    out.push('$');
    out
}

/// The index of the `]` closing the class opened at `open` (a `]` first in the class, or after
/// `!`, is a member, as in `glob`).
fn class_end(chars: &[char], open: usize) -> Option<usize> {
    let mut i = open + 1;
    if chars.get(i) == Some(&'!') {
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        i += 1;
    }
    (i..chars.len()).find(|&j| chars[j] == ']')
}

/// `[…]` contents (`!` negates, `a-z` is a range) as a regex class.
fn class_regex(body: &[char]) -> String {
    let (negated, body) = match body.split_first() {
        Some(('!', rest)) => (true, rest),
        _ => (false, body),
    };
    let mut out = String::from(if negated { "[^" } else { "[" });
    for (index, &c) in body.iter().enumerate() {
        let is_range_dash = c == '-' && index > 0 && index + 1 < body.len();
        if !is_range_dash && matches!(c, '\\' | '^' | '[' | ']' | '-' | '&') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(']');
    out
}

/// `c` as itself, escaped when it is a regex metacharacter.
fn push_literal(out: &mut String, c: char) {
    if "\\.^$|?*+()[]{}".contains(c) {
        out.push('\\');
    }
    out.push(c);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glob_and_its_regex_match_the_same_identities() {
        let identities = [
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0a1b/jane@example.com",
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_9f/jane@example.com",
            "arn:aws:iam::111122223333:role/ci-runner",
            "arn:aws:iam::111122223333:role/ci-",
            "arn:aws:iam::111122223333:user/build.bot+1",
            "arn:aws:iam::999999999999:user/x",
            "a.b",
            "a-b",
            "]x",
        ];
        let patterns = [
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_*/jane@example.com",
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_*",
            "arn:aws:iam::111122223333:role/ci-*",
            "arn:aws:iam::111122223333:user/build.bot+?",
            "arn:aws:iam::[0-8]*:user/*",
            "arn:aws:iam::[!1]*",
            "a?b",
            "a.b",
            "[]]x",
            "[!]]x",
            "[a-]?b",
            "*",
        ];
        for pattern in patterns {
            let glob = glob::Pattern::new(pattern).unwrap();
            let regex = regex::Regex::new(&glob_regex(pattern)).unwrap();
            for identity in identities {
                assert_eq!(
                    regex.is_match(identity),
                    glob.matches(identity),
                    "{pattern} -> {} on {identity}",
                    glob_regex(pattern)
                );
            }
        }
    }

    #[test]
    fn writes_literal_regexes() {
        let cases = [
            ("ci-*", "^ci-.*$"),
            ("a?b", "^a.b$"),
            ("[!a-c]x", "^[^a-c]x$"),
            ("[a-]x", "^[a\\-]x$"),
            ("user/j.doe+1", "^user/j\\.doe\\+1$"),
        ];
        for (glob, regex) in cases {
            assert_eq!(glob_regex(glob), regex, "{glob}");
        }
    }

    #[test]
    fn plans_tables_under_the_dataset_root() {
        let root = Url::parse("s3://logs/ledger/").unwrap();
        let teams = TeamRules::from_csv(
            "pattern,team,cost_center\narn:aws:iam::1:user/*,web,CC-1\nmetadata:user_id=e*,data,CC-5\n*,rest,\n"
                .as_bytes(),
        )
        .unwrap();
        let profiles = ProfileMap::default();
        let attribution = Attribution {
            teams: &teams,
            profiles: &profiles,
        };
        let catalog = AthenaCatalog::plan(&root, "ledger", Some(attribution)).unwrap();
        let locations: Vec<(&str, &str)> = catalog
            .tables
            .iter()
            .map(|t| (t.name, t.location.as_str()))
            .collect();
        assert_eq!(
            locations,
            [
                ("invocations", "s3://logs/ledger/invocations/"),
                ("rejects", "s3://logs/ledger/rejects/"),
                ("ledger_entries", "s3://logs/ledger/ledger/"),
                ("teams", "s3://logs/ledger/athena/teams/"),
                ("profile_teams", "s3://logs/ledger/athena/profile_teams/"),
            ]
        );
        assert_eq!(
            String::from_utf8(catalog.files[0].bytes.clone()).unwrap(),
            "rule,pattern,metadata_key,regex,team,cost_center\n\
             1,arn:aws:iam::1:user/*,,^arn:aws:iam::1:user/.*$,web,CC-1\n\
             2,metadata:user_id=e*,user_id,^e.*$,data,CC-5\n\
             3,*,,^.*$,rest,\n"
        );
        assert_eq!(
            String::from_utf8(catalog.files[1].bytes.clone()).unwrap(),
            "arn,team,cost_center\n"
        );
    }

    #[test]
    fn without_attribution_there_is_no_charged_invocations() {
        let root = Url::parse("s3://logs/ledger/").unwrap();
        let catalog = AthenaCatalog::plan(&root, "ledger", None).unwrap();
        let tables: Vec<&str> = catalog.tables.iter().map(|t| t.name).collect();
        assert_eq!(tables, ["invocations", "rejects", "ledger_entries"]);
        let views: Vec<&str> = catalog.views.iter().map(|v| v.name).collect();
        assert_eq!(views, ["daily_usage", "ingested_objects"]);
        assert!(catalog.files.is_empty());
    }

    #[test]
    fn refuses_what_cannot_be_written_into_ddl() {
        let plan = |root: &str, database: &str| {
            AthenaCatalog::plan(&Url::parse(root).unwrap(), database, None)
        };
        assert!(plan("s3://b/p/", "ledger_2026").is_ok());
        for (root, database) in [
            ("file:///tmp/ledger/", "ledger"),
            ("s3://b/it's/", "ledger"),
            ("s3://b/p/", "Ledger"),
            ("s3://b/p/", "led-ger"),
            ("s3://b/p/", ""),
        ] {
            assert!(plan(root, database).is_err(), "{root} {database}");
        }
    }
}
