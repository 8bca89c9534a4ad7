//! Attribution: which team and cost center a request is charged to, and for whom.
//!
//! Three sources, in order: the first `--teams` rule `metadata:KEY=GLOB` whose glob matches the
//! request's `requestMetadata` value of `KEY` (gateways such as LiteLLM call Bedrock with one
//! role and name the real user there: the request is then charged to that person, its
//! `end_user`); the `team`/`cost_center` tags of the application inference profile the request
//! went through (`--profiles`); the first `--teams` rule whose glob matches the charged
//! `identity`. Everything else is `UNALLOCATED` — never dropped. Decided at report time, so
//! editing the teams file needs no re-ingest.

use crate::normalize::ProfileMap;

/// The team of requests no rule claims.
pub const UNALLOCATED: &str = "UNALLOCATED";

/// How a teams-file pattern names a `requestMetadata` key: `metadata:KEY=GLOB`.
pub const METADATA_PREFIX: &str = "metadata:";

/// Where a request's cost goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribution {
    pub team: String,
    pub cost_center: String,
    /// The person a gateway request was made for: the metadata value a `metadata:` rule
    /// matched; empty when no such rule decided the team.
    pub end_user: String,
}

/// What a rule's glob is matched against.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Subject {
    Identity,
    /// The value of this `requestMetadata` key.
    Metadata(String),
}

#[derive(Clone, Debug)]
struct TeamRule {
    subject: Subject,
    pattern: glob::Pattern,
    /// The pattern as written in the file, `metadata:` prefix included.
    text: String,
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
            let text = row.get(0).unwrap_or_default();
            let team = row.get(1).unwrap_or_default();
            if text.is_empty() || team.is_empty() {
                return Err(row_error(
                    "`pattern` and `team` must not be empty".to_owned(),
                ));
            }
            let (subject, glob) = parse_pattern(text).map_err(row_error)?;
            let pattern = glob::Pattern::new(glob)
                .map_err(|e| row_error(format!("pattern {text:?}: {e}")))?;
            rules.push(TeamRule {
                subject,
                pattern,
                text: text.to_owned(),
                team: team.to_owned(),
                cost_center: row.get(2).unwrap_or_default().to_owned(),
            });
        }
        Ok(TeamRules { rules })
    }

    /// The `requestMetadata` keys the rules read, each once, in file order.
    pub fn metadata_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for rule in &self.rules {
            if let Subject::Metadata(key) = &rule.subject
                && !keys.contains(&key.as_str())
            {
                keys.push(key);
            }
        }
        keys
    }
}

/// Splits a pattern into what it matches and its glob: `metadata:KEY=GLOB` or an identity glob.
fn parse_pattern(text: &str) -> Result<(Subject, &str), String> {
    let Some(rest) = text.strip_prefix(METADATA_PREFIX) else {
        return Ok((Subject::Identity, text));
    };
    let (key, glob) = rest
        .split_once('=')
        .ok_or_else(|| format!("pattern {text:?}: write `metadata:KEY=GLOB`"))?;
    if !is_metadata_key(key) {
        return Err(format!(
            "pattern {text:?}: a metadata key is letters, digits and `_-.:/@+` (not empty)"
        ));
    }
    if glob.is_empty() {
        return Err(format!("pattern {text:?}: the glob after `=` is empty"));
    }
    Ok((Subject::Metadata(key.to_owned()), glob))
}

/// Whether `key` can name a `requestMetadata` key. Narrower than what Bedrock accepts, so that a
/// key can be written into SQL (the Athena view) without quoting rules.
fn is_metadata_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/@+".contains(c))
}

/// What a teams rule matches, as the Athena tables hold it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleSubject<'a> {
    Identity,
    Metadata(&'a str),
}

/// One rule of a teams file, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TeamRuleText<'a> {
    /// The whole pattern, `metadata:` prefix included.
    pub pattern: &'a str,
    pub subject: RuleSubject<'a>,
    /// The glob alone.
    pub glob: &'a str,
    pub team: &'a str,
    pub cost_center: &'a str,
}

impl TeamRules {
    /// The rules in file order (the first match of each kind wins).
    pub fn rules(&self) -> impl Iterator<Item = TeamRuleText<'_>> {
        self.rules.iter().map(|rule| TeamRuleText {
            pattern: &rule.text,
            subject: match &rule.subject {
                Subject::Identity => RuleSubject::Identity,
                Subject::Metadata(key) => RuleSubject::Metadata(key),
            },
            glob: rule.pattern.as_str(),
            team: &rule.team,
            cost_center: &rule.cost_center,
        })
    }
}

/// What attribution looks at in one request.
#[derive(Clone, Copy, Debug, Default)]
pub struct Request<'a> {
    /// The charged identity.
    pub identity: Option<&'a str>,
    pub model_id: Option<&'a str>,
    /// `(key, value)` of the request's metadata; only the keys of [`TeamRules::metadata_keys`]
    /// are looked at.
    pub metadata: &'a [(&'a str, &'a str)],
}

/// Attributes one request.
pub fn attribute(request: &Request<'_>, rules: &TeamRules, profiles: &ProfileMap) -> Attribution {
    let metadata_value = |key: &str| {
        request
            .metadata
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .filter(|v| !v.is_empty())
    };
    let by_metadata = rules.rules.iter().find_map(|rule| match &rule.subject {
        Subject::Metadata(key) => metadata_value(key)
            .filter(|value| rule.pattern.matches(value))
            .map(|value| (rule, value)),
        Subject::Identity => None,
    });
    if let Some((rule, person)) = by_metadata {
        return Attribution {
            team: rule.team.clone(),
            cost_center: rule.cost_center.clone(),
            end_user: person.to_owned(),
        };
    }
    if let Some(entry) = request.model_id.and_then(|id| profiles.entry(id))
        && let Some(team) = &entry.team
    {
        return Attribution {
            team: team.clone(),
            cost_center: entry.cost_center.clone().unwrap_or_default(),
            end_user: String::new(),
        };
    }
    let by_identity = request.identity.and_then(|identity| {
        rules
            .rules
            .iter()
            .find(|rule| rule.subject == Subject::Identity && rule.pattern.matches(identity))
    });
    match by_identity {
        Some(rule) => Attribution {
            team: rule.team.clone(),
            cost_center: rule.cost_center.clone(),
            end_user: String::new(),
        },
        None => Attribution {
            team: UNALLOCATED.to_owned(),
            cost_center: String::new(),
            end_user: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEAMS: &str = "pattern,team,cost_center\n\
        arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_*/jane@example.com,search,CC-100\n\
        arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_*,platform,CC-200\n\
        arn:aws:iam::111122223333:role/ci-*,platform,CC-200\n\
        arn:aws:iam::111122223333:user/*,web,\n\
        metadata:user_id=erin@*,data,CC-500\n\
        metadata:app=helpdesk,support,CC-600\n";
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
        let jane = format!("{sso}/jane@example.com");
        let miguel = format!("{sso}/miguel@example.com");
        let gateway = "arn:aws:sts::444455556666:assumed-role/llm-gateway/gw-1";
        let erin: &[(&str, &str)] = &[("team", "x"), ("user_id", "erin@example.com")];
        let helpdesk: &[(&str, &str)] = &[("app", "helpdesk"), ("user_id", "sam@example.com")];
        let empty: &[(&str, &str)] = &[("user_id", "")];
        /// (identity, model id, metadata, team, cost center, end user)
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            &'a [(&'a str, &'a str)],
            &'a str,
            &'a str,
            &'a str,
        );
        let cases: &[Case] = &[
            (Some(&jane), None, &[], "search", "CC-100", ""),
            (Some(&miguel), None, &[], "platform", "CC-200", ""),
            (
                Some("arn:aws:iam::111122223333:role/ci-runner"),
                None,
                &[],
                "platform",
                "CC-200",
                "",
            ),
            (
                Some("arn:aws:iam::111122223333:user/eng/bob"),
                None,
                &[],
                "web",
                "",
                "",
            ),
            (
                Some("arn:aws:iam::111122223333:user/eng/bob"),
                Some(TAGGED),
                &[],
                "assistant",
                "CC-300",
                "",
            ),
            // A metadata rule comes before the profile's tags and the identity rules.
            (
                Some(gateway),
                None,
                erin,
                "data",
                "CC-500",
                "erin@example.com",
            ),
            (
                Some(&jane),
                Some(TAGGED),
                erin,
                "data",
                "CC-500",
                "erin@example.com",
            ),
            (
                Some(gateway),
                None,
                helpdesk,
                "support",
                "CC-600",
                "helpdesk",
            ),
            (Some(gateway), None, empty, UNALLOCATED, "", ""),
            (
                Some("arn:aws:iam::444455556666:user/dave"),
                None,
                &[],
                UNALLOCATED,
                "",
                "",
            ),
            (
                Some("arn:aws:iam::444455556666:user/dave"),
                Some("us.m"),
                &[],
                UNALLOCATED,
                "",
                "",
            ),
            (None, None, &[], UNALLOCATED, "", ""),
        ];
        for &(identity, model_id, metadata, team, cost_center, end_user) in cases {
            let request = Request {
                identity,
                model_id,
                metadata,
            };
            let got = attribute(&request, &rules, &profiles);
            assert_eq!(
                (
                    got.team.as_str(),
                    got.cost_center.as_str(),
                    got.end_user.as_str()
                ),
                (team, cost_center, end_user),
                "{request:?}"
            );
        }
        assert_eq!(rules.metadata_keys(), ["user_id", "app"]);
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
            (
                "pattern,team,cost_center\nmetadata:user_id,web,\n",
                "line 2: pattern \"metadata:user_id\": write `metadata:KEY=GLOB`",
            ),
            (
                "pattern,team,cost_center\nmetadata:=a*,web,\n",
                "line 2: pattern \"metadata:=a*\": a metadata key is",
            ),
            (
                "pattern,team,cost_center\nmetadata:it's=a*,web,\n",
                "line 2: pattern \"metadata:it's=a*\": a metadata key is",
            ),
            (
                "pattern,team,cost_center\nmetadata:user=,web,\n",
                "line 2: pattern \"metadata:user=\": the glob after `=` is empty",
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
