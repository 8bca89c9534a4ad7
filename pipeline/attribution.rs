//! Attribution: which team and cost center a request is charged to.
//!
//! Two sources, in order: the `team`/`cost_center` tags of the application inference profile the
//! request went through (`--profiles`), then the first `--teams` rule whose glob matches the
//! charged `identity`. Everything else is `UNALLOCATED` — never dropped. Decided at report time,
//! so editing the teams file needs no re-ingest.

use crate::normalize::ProfileMap;

/// The team of requests no rule claims.
pub const UNALLOCATED: &str = "UNALLOCATED";

/// Where a request's cost goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribution {
    pub team: String,
    pub cost_center: String,
}

#[derive(Clone, Debug)]
struct TeamRule {
    pattern: glob::Pattern,
    team: String,
    cost_center: String,
}

/// The rules of a teams file (`pattern,team,cost_center`), in file order.
#[derive(Clone, Debug, Default)]
pub struct TeamRules {
    rules: Vec<TeamRule>,
}

/// Why a teams file was refused.
#[derive(Debug, thiserror::Error)]
pub enum TeamsError {
    #[error("the header must be `pattern,team,cost_center`, found `{0}`")]
    Header(String),
    #[error("line {line}: {message}")]
    Row { line: u64, message: String },
    #[error("{0}")]
    Csv(#[from] csv::Error),
}

impl TeamRules {
    /// Reads a teams file.
    pub fn from_csv(reader: impl std::io::Read) -> Result<Self, TeamsError> {
        let mut csv = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(reader);
        let headers = csv.headers()?.clone();
        if headers.iter().take(3).collect::<Vec<_>>() != ["pattern", "team", "cost_center"] {
            return Err(TeamsError::Header(
                headers.iter().collect::<Vec<_>>().join(","),
            ));
        }
        let mut rules = Vec::new();
        for row in csv.records() {
            let row = row?;
            let line = row.position().map_or(0, |p| p.line());
            let row_error = |message: String| TeamsError::Row { line, message };
            let pattern = row.get(0).unwrap_or_default();
            let team = row.get(1).unwrap_or_default();
            if pattern.is_empty() || team.is_empty() {
                return Err(row_error(
                    "`pattern` and `team` must not be empty".to_owned(),
                ));
            }
            let pattern = glob::Pattern::new(pattern)
                .map_err(|e| row_error(format!("pattern {pattern:?}: {e}")))?;
            rules.push(TeamRule {
                pattern,
                team: team.to_owned(),
                cost_center: row.get(2).unwrap_or_default().to_owned(),
            });
        }
        Ok(TeamRules { rules })
    }
}

/// One rule of a teams file, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TeamRuleText<'a> {
    pub pattern: &'a str,
    pub team: &'a str,
    pub cost_center: &'a str,
}

impl TeamRules {
    /// The rules in file order (the first match wins).
    pub fn rules(&self) -> impl Iterator<Item = TeamRuleText<'_>> {
        self.rules.iter().map(|rule| TeamRuleText {
            pattern: rule.pattern.as_str(),
            team: &rule.team,
            cost_center: &rule.cost_center,
        })
    }
}

/// Attributes a request charged to `identity` that was made with `model_id`.
pub fn attribute(
    identity: Option<&str>,
    model_id: Option<&str>,
    rules: &TeamRules,
    profiles: &ProfileMap,
) -> Attribution {
    if let Some(entry) = model_id.and_then(|id| profiles.entry(id))
        && let Some(team) = &entry.team
    {
        return Attribution {
            team: team.clone(),
            cost_center: entry.cost_center.clone().unwrap_or_default(),
        };
    }
    identity
        .and_then(|identity| {
            rules
                .rules
                .iter()
                .find(|rule| rule.pattern.matches(identity))
        })
        .map_or_else(
            || Attribution {
                team: UNALLOCATED.to_owned(),
                cost_center: String::new(),
            },
            |rule| Attribution {
                team: rule.team.clone(),
                cost_center: rule.cost_center.clone(),
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEAMS: &str = "pattern,team,cost_center\n\
        arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_*/jane@example.com,search,CC-100\n\
        arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_*,platform,CC-200\n\
        arn:aws:iam::111122223333:role/ci-*,platform,CC-200\n\
        arn:aws:iam::111122223333:user/*,web,\n";
    const TAGGED: &str = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/k3";

    #[test]
    fn first_matching_source_wins() {
        let rules = TeamRules::from_csv(TEAMS.as_bytes()).unwrap();
        let profiles = ProfileMap::from_csv(
            format!("arn,model_id,team,cost_center\n{TAGGED},us.m,assistant,CC-300\n").as_bytes(),
        )
        .unwrap();
        let sso =
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0a1b2c3d4e5f6a7b";
        let cases: Vec<(Option<String>, Option<&str>, &str, &str)> = vec![
            (
                Some(format!("{sso}/jane@example.com")),
                None,
                "search",
                "CC-100",
            ),
            (
                Some(format!("{sso}/miguel@example.com")),
                None,
                "platform",
                "CC-200",
            ),
            (
                Some("arn:aws:iam::111122223333:role/ci-runner".into()),
                None,
                "platform",
                "CC-200",
            ),
            (
                Some("arn:aws:iam::111122223333:user/eng/bob".into()),
                None,
                "web",
                "",
            ),
            (
                Some("arn:aws:iam::111122223333:user/eng/bob".into()),
                Some(TAGGED),
                "assistant",
                "CC-300",
            ),
            (
                Some("arn:aws:iam::444455556666:user/dave".into()),
                None,
                UNALLOCATED,
                "",
            ),
            (
                Some("arn:aws:iam::444455556666:user/dave".into()),
                Some("us.m"),
                UNALLOCATED,
                "",
            ),
            (None, None, UNALLOCATED, ""),
        ];
        for (identity, model_id, team, cost_center) in cases {
            let got = attribute(identity.as_deref(), model_id, &rules, &profiles);
            assert_eq!(
                (got.team.as_str(), got.cost_center.as_str()),
                (team, cost_center),
                "{identity:?} {model_id:?}"
            );
        }
    }

    #[test]
    fn refuses_malformed_teams_files() {
        let cases: &[(&str, &str)] = &[
            ("identity,team\n", "the header must be"),
            (
                "pattern,team,cost_center\n,web,\n",
                "line 2: `pattern` and `team` must not be empty",
            ),
            (
                "pattern,team,cost_center\narn:[,web,\n",
                "line 2: pattern \"arn:[\"",
            ),
        ];
        for (text, message) in cases {
            let error = TeamRules::from_csv(text.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(error.starts_with(message), "{text:?}: {error}");
        }
    }
}
