//! Model-id normalization: from whatever the caller passed as `modelId` to the base model id
//! that prices and reports group by, plus how the request was routed (`inference_scope`).
//!
//! Pure string work. Application inference profiles say nothing about their model, so they are
//! resolved through a [`ProfileMap`] the caller loads from `--profiles`; this module never does I/O.

use crate::rows::InferenceScope;
use std::collections::HashMap;

/// The normalized model of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedModel {
    /// The base model id, or `None` when the id does not name one (unmapped profile, router, ...).
    pub model: Option<String>,
    pub scope: InferenceScope,
}

/// Application-inference-profile ARN → the model id it routes to (itself possibly a profile id),
/// and optionally the team and cost center the profile is tagged with.
#[derive(Clone, Debug, Default)]
pub struct ProfileMap {
    entries: HashMap<String, ProfileEntry>,
}

/// One mapped profile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileEntry {
    pub model_id: String,
    /// The `team` tag of the profile (a second source of attribution besides `--teams`).
    pub team: Option<String>,
    pub cost_center: Option<String>,
}

/// Geography prefixes of system cross-region inference profiles. `us-gov.` precedes `us.` so the
/// longer prefix wins.
const GEO_PREFIXES: [&str; 8] = ["us-gov.", "us.", "eu.", "apac.", "jp.", "au.", "ca.", "in."];
const GLOBAL_PREFIX: &str = "global.";
/// A mapping that points back at itself (directly or in a cycle) must not loop forever.
const MAX_PROFILE_HOPS: usize = 8;

impl ProfileMap {
    /// Builds a map from `(arn, model_id)` pairs, without tags.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let entries = pairs
            .into_iter()
            .map(|(arn, model_id)| {
                let entry = ProfileEntry {
                    model_id,
                    ..ProfileEntry::default()
                };
                (arn, entry)
            })
            .collect();
        ProfileMap { entries }
    }

    /// Reads a mapping CSV with the columns `arn` and `model_id`, and optionally `team` and
    /// `cost_center` (the profile's tags). Other columns are ignored.
    pub fn from_csv(reader: impl std::io::Read) -> Result<Self, ProfileMapError> {
        let mut csv = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(reader);
        let headers = csv.headers()?.clone();
        let position = |name: &str| headers.iter().position(|h| h == name);
        let required =
            |name: &'static str| position(name).ok_or(ProfileMapError::MissingColumn(name));
        let (arn_column, model_column) = (required("arn")?, required("model_id")?);
        let (team_column, cost_center_column) = (position("team"), position("cost_center"));
        let mut entries = HashMap::new();
        for row in csv.records() {
            let row = row?;
            let line = row.position().map_or(0, |p| p.line());
            let cell = |column: Option<usize>| {
                column
                    .and_then(|c| row.get(c))
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            };
            let (Some(arn), Some(model_id)) = (cell(Some(arn_column)), cell(Some(model_column)))
            else {
                return Err(ProfileMapError::EmptyField { line });
            };
            let entry = ProfileEntry {
                model_id,
                team: cell(team_column),
                cost_center: cell(cost_center_column),
            };
            if entries.insert(arn.clone(), entry).is_some() {
                return Err(ProfileMapError::Duplicate { line, arn });
            }
        }
        Ok(ProfileMap { entries })
    }

    /// The mapping of a profile ARN, if any.
    pub fn entry(&self, arn: &str) -> Option<&ProfileEntry> {
        self.entries.get(arn)
    }

    /// `(arn, team, cost_center)` of every profile with a team tag, sorted by ARN.
    pub fn team_tags(&self) -> Vec<(&str, &str, &str)> {
        let mut tags: Vec<(&str, &str, &str)> = self
            .entries
            .iter()
            .filter_map(|(arn, entry)| {
                let team = entry.team.as_deref()?;
                Some((
                    arn.as_str(),
                    team,
                    entry.cost_center.as_deref().unwrap_or(""),
                ))
            })
            .collect();
        tags.sort_unstable();
        tags
    }

    fn target(&self, arn: &str) -> Option<&str> {
        self.entries.get(arn).map(|e| e.model_id.as_str())
    }
}

/// Why a profile mapping file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProfileMapError {
    #[error("the header has no `{0}` column (expected `arn,model_id`)")]
    MissingColumn(&'static str),
    #[error("line {line}: `arn` and `model_id` must not be empty")]
    EmptyField { line: u64 },
    #[error("line {line}: {arn} is mapped twice")]
    Duplicate { line: u64, arn: String },
    #[error("{0}")]
    Csv(#[from] csv::Error),
}

/// Resolves a raw `modelId` into its base model and inference scope.
pub fn resolve_model(model_id: &str, profiles: &ProfileMap) -> ResolvedModel {
    resolve_with_hops(model_id.trim(), profiles, 0)
}

fn resolve_with_hops(model_id: &str, profiles: &ProfileMap, hops: usize) -> ResolvedModel {
    let Some(resource) = arn_resource(model_id) else {
        return resolve_profile_id(model_id);
    };
    let (kind, id) = resource.split_once('/').unwrap_or((resource, ""));
    match kind {
        "foundation-model" => ResolvedModel {
            model: non_empty(id),
            scope: InferenceScope::InRegion,
        },
        "inference-profile" => resolve_profile_id(id),
        "application-inference-profile" => match profiles.target(model_id) {
            Some(target) if hops < MAX_PROFILE_HOPS => {
                resolve_with_hops(target, profiles, hops + 1)
            }
            _ => unresolved(InferenceScope::Application),
        },
        "provisioned-model" => {
            mapped_or_unresolved(model_id, profiles, InferenceScope::Provisioned)
        }
        "default-prompt-router" | "prompt-router" => {
            mapped_or_unresolved(model_id, profiles, InferenceScope::PromptRouter)
        }
        _ => mapped_or_unresolved(model_id, profiles, InferenceScope::Custom),
    }
}

/// Provisioned, router and custom ARNs keep their scope (they are billed differently), but the
/// mapping file may still name the base model behind them.
fn mapped_or_unresolved(arn: &str, profiles: &ProfileMap, scope: InferenceScope) -> ResolvedModel {
    let model = profiles
        .target(arn)
        .and_then(|target| resolve_model(target, &ProfileMap::default()).model);
    ResolvedModel { model, scope }
}

fn unresolved(scope: InferenceScope) -> ResolvedModel {
    ResolvedModel { model: None, scope }
}

/// A model or system-profile id without ARN wrapping: `us.anthropic...`, `global....` or a base id.
fn resolve_profile_id(id: &str) -> ResolvedModel {
    if let Some(base) = id.strip_prefix(GLOBAL_PREFIX) {
        return ResolvedModel {
            model: non_empty(base),
            scope: InferenceScope::Global,
        };
    }
    for prefix in GEO_PREFIXES {
        if let Some(base) = id.strip_prefix(prefix) {
            return ResolvedModel {
                model: non_empty(base),
                scope: InferenceScope::Geo,
            };
        }
    }
    ResolvedModel {
        model: non_empty(id),
        scope: InferenceScope::InRegion,
    }
}

/// The resource part of a Bedrock ARN (`arn:<partition>:bedrock:<region>:<account>:<resource>`).
fn arn_resource(value: &str) -> Option<&str> {
    let rest = value.strip_prefix("arn:")?;
    let mut fields = rest.splitn(5, ':');
    let (_partition, service, _region, _account) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    let resource = fields.next()?;
    (service == "bedrock").then_some(resource)
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use InferenceScope::*;

    const SONNET: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";
    const APP_US: &str =
        "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3";
    const APP_GLOBAL: &str =
        "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/g1";
    const APP_CHAIN: &str =
        "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/c1";
    const APP_LOOP: &str =
        "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/l1";
    const PROVISIONED: &str = "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/p1";

    fn profiles() -> ProfileMap {
        ProfileMap::new([
            (APP_US.to_owned(), format!("us.{SONNET}")),
            (
                APP_GLOBAL.to_owned(),
                "global.anthropic.claude-haiku-4-5-20251001-v1:0".to_owned(),
            ),
            (APP_CHAIN.to_owned(), APP_US.to_owned()),
            (APP_LOOP.to_owned(), APP_LOOP.to_owned()),
            (PROVISIONED.to_owned(), SONNET.to_owned()),
        ])
    }

    #[test]
    fn reads_and_checks_mapping_files() {
        let good = "note,arn,model_id,team\nx, arn:p1 ,us.m,search\ny,arn:p2,eu.m,\n";
        let map = ProfileMap::from_csv(good.as_bytes()).unwrap();
        assert_eq!(map.target("arn:p1"), Some("us.m"));
        assert_eq!(map.entry("arn:p1").unwrap().team.as_deref(), Some("search"));
        assert_eq!(map.entry("arn:p2").unwrap().team, None);
        assert_eq!(map.entry("arn:p2").unwrap().cost_center, None);
        let bad: &[(&str, &str)] = &[
            ("arn,model\n", "no `model_id` column"),
            (
                "arn,model_id\narn:p1,\n",
                "line 2: `arn` and `model_id` must not be empty",
            ),
            (
                "arn,model_id\narn:p1,a\narn:p1,b\n",
                "line 3: arn:p1 is mapped twice",
            ),
        ];
        for (csv, message) in bad {
            let error = ProfileMap::from_csv(csv.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(error.contains(message), "{csv:?}: {error}");
        }
    }

    #[test]
    fn resolves_every_model_id_shape() {
        let cases: &[(&str, Option<&str>, InferenceScope)] = &[
            (SONNET, Some(SONNET), InRegion),
            (
                "anthropic.claude-opus-4-6-v1",
                Some("anthropic.claude-opus-4-6-v1"),
                InRegion,
            ),
            (
                "amazon.nova-lite-v1:0",
                Some("amazon.nova-lite-v1:0"),
                InRegion,
            ),
            (
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                Some(SONNET),
                Geo,
            ),
            (
                "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
                Some(SONNET),
                Geo,
            ),
            (
                "apac.anthropic.claude-sonnet-4-5-20250929-v1:0",
                Some(SONNET),
                Geo,
            ),
            (
                "jp.anthropic.claude-sonnet-4-5-20250929-v1:0",
                Some(SONNET),
                Geo,
            ),
            (
                "au.anthropic.claude-sonnet-4-5-20250929-v1:0",
                Some(SONNET),
                Geo,
            ),
            (
                "ca.anthropic.claude-sonnet-4-5-20250929-v1:0",
                Some(SONNET),
                Geo,
            ),
            (
                "us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0",
                Some(SONNET),
                Geo,
            ),
            (
                "in.anthropic.claude-sonnet-4-5-20250929-v1:0",
                Some(SONNET),
                Geo,
            ),
            (
                "global.anthropic.claude-opus-4-7",
                Some("anthropic.claude-opus-4-7"),
                Global,
            ),
            (
                "arn:aws:bedrock:ap-south-1:111122223333:inference-profile/in.anthropic.claude-sonnet-4-6",
                Some("anthropic.claude-sonnet-4-6"),
                Geo,
            ),
            (
                "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-4-6-v1",
                Some("anthropic.claude-opus-4-6-v1"),
                InRegion,
            ),
            // a prefix-looking id that is no known geography stays a base id, never guessed
            (
                "xx.anthropic.claude-sonnet-4-6",
                Some("xx.anthropic.claude-sonnet-4-6"),
                InRegion,
            ),
            (
                "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
                Some(SONNET),
                Global,
            ),
            (
                "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
                Some(SONNET),
                InRegion,
            ),
            (
                "arn:aws:bedrock:us-east-1:111122223333:foundation-model/amazon.nova-lite-v1:0",
                Some("amazon.nova-lite-v1:0"),
                InRegion,
            ),
            (
                "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                Some(SONNET),
                Geo,
            ),
            (
                "arn:aws-us-gov:bedrock:us-gov-west-1:111122223333:inference-profile/us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0",
                Some(SONNET),
                Geo,
            ),
            (
                "arn:aws:bedrock:eu-west-1:111122223333:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0",
                Some(SONNET),
                Global,
            ),
            (APP_US, Some(SONNET), Geo),
            (
                APP_GLOBAL,
                Some("anthropic.claude-haiku-4-5-20251001-v1:0"),
                Global,
            ),
            (APP_CHAIN, Some(SONNET), Geo),
            (APP_LOOP, None, Application),
            (
                "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/unmapped",
                None,
                Application,
            ),
            (PROVISIONED, Some(SONNET), Provisioned),
            (
                "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/other",
                None,
                Provisioned,
            ),
            (
                "arn:aws:bedrock:us-east-1:111122223333:default-prompt-router/anthropic.claude:1",
                None,
                PromptRouter,
            ),
            (
                "arn:aws:bedrock:us-east-1:111122223333:prompt-router/r1",
                None,
                PromptRouter,
            ),
            (
                "arn:aws:bedrock:us-east-1:111122223333:custom-model-deployment/d1",
                None,
                Custom,
            ),
            (
                "arn:aws:bedrock:us-east-1:111122223333:imported-model/i1",
                None,
                Custom,
            ),
            (
                "  us.amazon.nova-lite-v1:0 ",
                Some("amazon.nova-lite-v1:0"),
                Geo,
            ),
            ("", None, InRegion),
        ];
        let profiles = profiles();
        for (model_id, model, scope) in cases {
            let resolved = resolve_model(model_id, &profiles);
            assert_eq!(resolved.model.as_deref(), *model, "model of {model_id:?}");
            assert_eq!(resolved.scope, *scope, "scope of {model_id:?}");
        }
    }
}
