//! Which model, token kind, scope and tier a billed Bedrock line is, from its usage type and
//! product name, or why it cannot be told.
//!
//! Token kind, scope and tier come from the usage type through the grammar the Price List
//! import already reads ([`crate::pricing::offer::classify`]), so a usage type is understood the
//! same way when it is priced and when it is billed. The model comes from one of two reviewed
//! maps, never from guessing at names:
//!
//! - first-party lines (`USE1-NovaLite-input-tokens`): the model part of the usage type, between
//!   the region prefix and the token kind, looked up in `usage_types.csv` beside this file;
//! - AWS Marketplace lines (`USE1-MP:USE1_InputTokenCount-Units`, Anthropic's models): the model
//!   is not in the usage type but in the product name (`Claude Sonnet 4.5 (Amazon Bedrock
//!   Edition)`), looked up, less its edition suffix, among the `AmazonBedrockFoundationModels`
//!   names of `pipeline/pricing/offer_models.csv`: the Price List's `servicename` and the CUR's
//!   product name are the same text.

use std::collections::BTreeMap;

use super::bucket::{Scope, TokenKind};
use crate::pricing::offer::{DEFAULT_MODEL_MAP, classify};

/// The reviewed map shipped with the binary.
pub const DEFAULT_USAGE_TYPES: &str = include_str!("usage_types.csv");

/// What a Marketplace product name for a Bedrock model ends with.
pub const EDITION_SUFFIX: &str = " (Amazon Bedrock Edition)";

/// The offer whose names in `offer_models.csv` are Marketplace product names.
const MARKETPLACE_OFFER: &str = "AmazonBedrockFoundationModels";

/// Where the token kind starts in a first-party usage type (lowercase).
const KIND_MARKERS: [&str; 5] = [
    "-input-token",
    "-output-token",
    "-cache-read",
    "-cache-write",
    "-mantle-",
];

/// Why a map was refused.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    #[error("{file} line {line}: {message}")]
    Row {
        file: &'static str,
        line: u64,
        message: String,
    },
    #[error("{file}: {source}")]
    Csv {
        file: &'static str,
        source: csv::Error,
    },
}

/// What a billed line is, in the ledger's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    pub model: String,
    pub kind: TokenKind,
    pub scope: Scope,
    pub tier: String,
}

/// Usage-type model parts and Marketplace product names → model ids.
#[derive(Clone, Debug)]
pub struct UsageTypeMap {
    first_party: BTreeMap<String, String>,
    marketplace: BTreeMap<String, String>,
}

impl UsageTypeMap {
    /// Reads `usage_types.csv` (`usage_type_model,model,source`) and the Marketplace names of
    /// `offer_models.csv` (`offer,name,model,…`).
    pub fn from_csv(usage_types: &[u8], offer_models: &[u8]) -> Result<UsageTypeMap, MapError> {
        let first_party = read_pairs(
            "usage_types.csv",
            usage_types,
            ["usage_type_model", "model", "source"],
            |_| true,
        )?;
        let marketplace = read_pairs(
            "offer_models.csv",
            offer_models,
            ["name", "model", "offer"],
            |offer| offer == MARKETPLACE_OFFER,
        )?;
        Ok(UsageTypeMap {
            first_party,
            marketplace,
        })
    }

    /// The maps shipped with the binary.
    pub fn built_in() -> UsageTypeMap {
        UsageTypeMap::from_csv(DEFAULT_USAGE_TYPES.as_bytes(), DEFAULT_MODEL_MAP.as_bytes())
            .expect("the shipped usage-type maps are valid")
    }

    /// Maps a billed line by its usage type, product name and Price List `feature` (both from
    /// the CUR's `product` column, when it has them).
    pub fn map(
        &self,
        usage_type: &str,
        product_name: Option<&str>,
        feature: Option<&str>,
    ) -> Result<Mapped, String> {
        let charge = classify(usage_type, feature.unwrap_or_default())?;
        let marketplace_name = product_name.and_then(|name| name.strip_suffix(EDITION_SUFFIX));
        let model = match marketplace_name {
            Some(name) => self.marketplace.get(name).ok_or_else(|| {
                format!("offer_models.csv maps no {MARKETPLACE_OFFER} model named {name:?}")
            })?,
            None if usage_type.contains("MP:") => {
                return Err("a Marketplace usage type without a Bedrock product name".into());
            }
            None => {
                let part =
                    first_party_model(usage_type).ok_or("no model part in the usage type")?;
                self.first_party.get(part).ok_or_else(|| {
                    format!("usage_types.csv maps no model for the usage-type model {part:?}")
                })?
            }
        };
        Ok(Mapped {
            model: model.clone(),
            kind: charge.bucket,
            scope: if charge.scope == "global" {
                Scope::Global
            } else {
                Scope::Regional
            },
            tier: charge.tier.to_owned(),
        })
    }
}

/// `USE1-Llama3-3-70B-input-tokens` → `Llama3-3-70B`: what lies between the region prefix and
/// the token kind.
fn first_party_model(usage_type: &str) -> Option<&str> {
    let (_, rest) = usage_type.split_once('-')?;
    let lower = rest.to_ascii_lowercase();
    let end = KIND_MARKERS
        .iter()
        .filter_map(|marker| lower.find(marker))
        .min()?;
    Some(&rest[..end]).filter(|part| !part.is_empty())
}

/// Reads `key → value` from the columns `[key, value, filter]` of a CSV, keeping the rows whose
/// `filter` cell passes; an empty key or value, or a key given twice, is refused.
fn read_pairs(
    file: &'static str,
    bytes: &[u8],
    [key, value, filter]: [&str; 3],
    keep: impl Fn(&str) -> bool,
) -> Result<BTreeMap<String, String>, MapError> {
    let csv_error = |source| MapError::Csv { file, source };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader.headers().map_err(csv_error)?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| MapError::Row {
                file,
                line: 1,
                message: format!("the header lacks `{name}`"),
            })
    };
    let (key, value, filter) = (column(key)?, column(value)?, column(filter)?);
    let mut pairs = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, |p| p.line());
        let cell = |c: usize| record.get(c).unwrap_or_default();
        if !keep(cell(filter)) {
            continue;
        }
        let bad = |message: String| MapError::Row {
            file,
            line,
            message,
        };
        if cell(key).is_empty() || cell(value).is_empty() {
            return Err(bad("an empty name or model".to_owned()));
        }
        if pairs
            .insert(cell(key).to_owned(), cell(value).to_owned())
            .is_some()
        {
            return Err(bad(format!("{:?} is mapped twice", cell(key))));
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_first_party_and_marketplace_lines() {
        let map = UsageTypeMap::built_in();
        let mapped = |model: &str, kind, scope, tier: &str| {
            Ok(Mapped {
                model: model.to_owned(),
                kind,
                scope,
                tier: tier.to_owned(),
            })
        };
        use Scope::*;
        use TokenKind::*;
        const SONNET: &str = "Claude Sonnet 4.5 (Amazon Bedrock Edition)";
        const HAIKU: &str = "Claude Haiku 4.5 (Amazon Bedrock Edition)";
        let cases: &[(&str, Option<&str>, Result<Mapped, String>)] = &[
            (
                "USE1-NovaLite-input-tokens",
                Some("Amazon Bedrock"),
                mapped("amazon.nova-lite-v1:0", Input, Regional, "standard"),
            ),
            (
                "USW2-NovaLite-output-tokens-cross-region-global",
                None,
                mapped("amazon.nova-lite-v1:0", Output, Global, "standard"),
            ),
            (
                "USE1-Llama3-3-70B-input-tokens",
                None,
                mapped(
                    "meta.llama3-3-70b-instruct-v1:0",
                    Input,
                    Regional,
                    "standard",
                ),
            ),
            (
                "USE1-Claude4.6Sonnet-cache-write-input-token-count",
                None,
                mapped("anthropic.claude-sonnet-4-6", CacheWrite5m, Regional, "standard"),
            ),
            (
                "USE1-NovaPro-input-tokens-latency-optimized",
                None,
                mapped("amazon.nova-pro-v1:0", Input, Regional, "optimized"),
            ),
            (
                "USE1-MP:USE1_InputTokenCount-Units",
                Some(SONNET),
                mapped(
                    "anthropic.claude-sonnet-4-5-20250929-v1:0",
                    Input,
                    Regional,
                    "standard",
                ),
            ),
            (
                "USE1-MP:USE1_CacheWrite1hInputTokenCount_Global-Units",
                Some(HAIKU),
                mapped(
                    "anthropic.claude-haiku-4-5-20251001-v1:0",
                    CacheWrite1h,
                    Global,
                    "standard",
                ),
            ),
            (
                "USE1-MP:USE1_CacheReadInputTokenCount-Units",
                Some("Claude Opus 4.6 (Amazon Bedrock Edition)"),
                mapped("anthropic.claude-opus-4-6-v1", CacheRead, Regional, "standard"),
            ),
            (
                "USE1-Nova2.0Pro-input-tokens",
                None,
                Err("usage_types.csv maps no model for the usage-type model \"Nova2.0Pro\"".into()),
            ),
            (
                "USE1-MP:USE1_InputTokenCount-Units",
                Some("Claude Mythos (Amazon Bedrock Edition)"),
                Err("offer_models.csv maps no AmazonBedrockFoundationModels model named \"Claude Mythos\"".into()),
            ),
            (
                "USE1-MP:USE1_OutputTokenCount-Units",
                None,
                Err("a Marketplace usage type without a Bedrock product name".into()),
            ),
            (
                "USE1-NovaCanvas-T2I-1024-Standard",
                None,
                Err("not a token price".into()),
            ),
            (
                "USE1-NovaLite-input-tokens-batch",
                None,
                Err("batch inference: not in invocation logs".into()),
            ),
            (
                "USE1-input-tokens",
                None,
                Err("no model part in the usage type".into()),
            ),
        ];
        for (usage_type, product, expected) in cases {
            assert_eq!(
                &map.map(usage_type, *product, None),
                expected,
                "{usage_type}"
            );
        }
        // The Price List `feature` is read as the import reads it.
        assert_eq!(
            map.map("USE1-NovaLite-input-tokens", None, Some("Batch Inference")),
            Err("batch inference: not in invocation logs".into())
        );
    }

    #[test]
    fn refuses_a_bad_map_naming_the_file_and_line() {
        let offers = DEFAULT_MODEL_MAP.as_bytes();
        let cases: &[(&[u8], &[u8], &str)] = &[
            (
                b"usage_type_model,model\n",
                offers,
                "usage_types.csv line 1: the header lacks `source`",
            ),
            (
                b"usage_type_model,model,source\nNovaLite,,x\n",
                offers,
                "usage_types.csv line 2: an empty name or model",
            ),
            (
                b"usage_type_model,model,source\nA,m,x\nA,n,y\n",
                offers,
                "usage_types.csv line 3: \"A\" is mapped twice",
            ),
            (
                b"usage_type_model,model,source\n",
                b"offer,name,model\nAmazonBedrockFoundationModels,N,m\nAmazonBedrockFoundationModels,N,k\n",
                "offer_models.csv line 3: \"N\" is mapped twice",
            ),
        ];
        for (usage_types, offer_models, message) in cases {
            assert_eq!(
                UsageTypeMap::from_csv(usage_types, offer_models)
                    .unwrap_err()
                    .to_string(),
                *message
            );
        }
        // Names of other offers are not Marketplace product names.
        let map = UsageTypeMap::from_csv(
            b"usage_type_model,model,source\n",
            b"offer,name,model\nAmazonBedrock,Nova Lite,amazon.nova-lite-v1:0\n",
        )
        .unwrap();
        assert!(map.marketplace.is_empty());
    }
}
