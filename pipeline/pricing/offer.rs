//! AWS Price List offer files (the public bulk JSON of `AmazonBedrock`,
//! `AmazonBedrockFoundationModels` and `AmazonBedrockService`) → price-book rows.
//!
//! An offer file holds `products` (SKU → attributes) and `terms.OnDemand` (SKU → terms → price
//! dimensions, each a price per `unit` as a decimal string). Each dimension is classified by its
//! usage type into (model, scope, region, tier, bucket) or listed as not importable with the
//! reason (batch, provisioned, an unknown model, an unknown unit): nothing is dropped silently.
//! Which model a product is comes from a reviewed map ([`ModelMap`],
//! `offer_models.csv` beside this file), never from guessing at names.
//!
//! The usage-type grammar is AWS's and is written by hand here because no crate knows it:
//! `USE1-NovaLite-input-tokens[-cross-region-global][-latency-optimized|-flex|-priority|-batch]`
//! (AmazonBedrock, AmazonBedrockService; unit `1K tokens` or `Tokens`) and
//! `USE1-MP:USE1_InputTokenCount[_Global][_Batch]-Units` (AmazonBedrockFoundationModels, priced
//! per million tokens).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Deserialize;

use super::book::{PriceRow, RATE_SCALE, Rates, STANDARD_TIER, Selector};

/// The reviewed map shipped with the binary.
pub const DEFAULT_MODEL_MAP: &str = include_str!("offer_models.csv");

/// The region whose prices become the `*` rows of an imported book.
pub const REFERENCE_REGION: &str = "us-east-1";

/// Why an offer file or model map was refused.
#[derive(Debug, thiserror::Error)]
pub enum OfferError {
    #[error("{origin}: not a Price List offer file: {source}")]
    Json {
        origin: String,
        source: serde_json::Error,
    },
    #[error("model map line {line}: {message}")]
    Map { line: u64, message: String },
    #[error("model map: {0}")]
    MapCsv(#[from] csv::Error),
}

#[derive(Deserialize)]
struct OfferFile {
    #[serde(rename = "offerCode")]
    offer_code: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    products: BTreeMap<String, Product>,
    #[serde(default)]
    terms: Terms,
}

#[derive(Deserialize)]
struct Product {
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

#[derive(Default, Deserialize)]
struct Terms {
    #[serde(rename = "OnDemand", default)]
    on_demand: BTreeMap<String, BTreeMap<String, Term>>,
}

#[derive(Deserialize)]
struct Term {
    #[serde(rename = "effectiveDate")]
    effective_date: String,
    #[serde(rename = "priceDimensions", default)]
    price_dimensions: BTreeMap<String, PriceDimension>,
}

#[derive(Deserialize)]
struct PriceDimension {
    #[serde(default)]
    unit: String,
    #[serde(rename = "pricePerUnit", default)]
    price_per_unit: BTreeMap<String, String>,
    #[serde(rename = "beginRange", default)]
    begin_range: Option<String>,
}

/// One on-demand price of an offer file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferPrice {
    pub offer_code: String,
    pub version: String,
    pub attributes: BTreeMap<String, String>,
    pub unit: String,
    /// USD per `unit`, as written.
    pub usd: String,
    pub effective_date: Option<NaiveDate>,
}

impl OfferPrice {
    fn attribute(&self, name: &str) -> &str {
        self.attributes.get(name).map_or("", String::as_str)
    }

    /// The usage type, which says what the price is for.
    pub fn usage_type(&self) -> &str {
        self.attribute("usagetype")
    }
}

/// A parsed offer file: its on-demand prices.
#[derive(Clone, Debug)]
pub struct Offer {
    pub prices: Vec<OfferPrice>,
}

impl Offer {
    /// Reads an offer file's JSON; `origin` names it in messages.
    pub fn from_json(bytes: &[u8], origin: &str) -> Result<Offer, OfferError> {
        let file: OfferFile = serde_json::from_slice(bytes).map_err(|source| OfferError::Json {
            origin: origin.to_owned(),
            source,
        })?;
        let mut prices = Vec::new();
        for (sku, terms) in &file.terms.on_demand {
            let attributes = file
                .products
                .get(sku)
                .map(|p| p.attributes.clone())
                .unwrap_or_default();
            for term in terms.values() {
                let effective_date = term
                    .effective_date
                    .get(..10)
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                for dimension in term.price_dimensions.values() {
                    // Tiered usage prices start at 0; only the first tier is an on-demand rate.
                    if dimension.begin_range.as_deref().is_some_and(|b| b != "0") {
                        continue;
                    }
                    prices.push(OfferPrice {
                        offer_code: file.offer_code.clone(),
                        version: file.version.clone(),
                        attributes: attributes.clone(),
                        unit: dimension.unit.clone(),
                        usd: dimension
                            .price_per_unit
                            .get("USD")
                            .cloned()
                            .unwrap_or_default(),
                        effective_date,
                    });
                }
            }
        }
        Ok(Offer { prices })
    }
}

/// One reviewed mapping from an offer's product name to a Bedrock model id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedModel {
    pub model: String,
    /// The long-context threshold the offer's long-context prices apply above.
    pub long_context_threshold: Option<u64>,
    /// The model bills cache writes at $0 although the offer has no cache-write price.
    pub free_cache_writes: bool,
}

/// Offer code and product name → model, from `offer_models.csv`
/// (`offer,name,model,long_context_threshold,free_cache_writes,note`).
#[derive(Clone, Debug, Default)]
pub struct ModelMap {
    entries: BTreeMap<(String, String), MappedModel>,
}

impl ModelMap {
    /// Parses and checks a map.
    pub fn from_csv(bytes: &[u8]) -> Result<ModelMap, OfferError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let headers = reader.headers()?.clone();
        let column = |name: &str| headers.iter().position(|h| h == name);
        let required = |name: &str| {
            column(name).ok_or_else(|| OfferError::Map {
                line: 1,
                message: format!("the header lacks `{name}`"),
            })
        };
        let (offer, name, model) = (required("offer")?, required("name")?, required("model")?);
        let (threshold, free) = (
            column("long_context_threshold"),
            column("free_cache_writes"),
        );
        let mut entries = BTreeMap::new();
        for record in reader.records() {
            let record = record?;
            let line = record.position().map_or(0, |p| p.line());
            let cell = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or_default();
            let bad = |message: String| OfferError::Map { line, message };
            let key = (cell(Some(offer)).to_owned(), cell(Some(name)).to_owned());
            if key.0.is_empty() || key.1.is_empty() || cell(Some(model)).is_empty() {
                return Err(bad(
                    "`offer`, `name` and `model` must not be empty".to_owned()
                ));
            }
            let long_context_threshold = match cell(threshold) {
                "" => None,
                text => Some(
                    text.parse()
                        .map_err(|_| bad(format!("threshold {text:?} is not a number")))?,
                ),
            };
            let free_cache_writes = match cell(free) {
                "" | "no" => false,
                "yes" => true,
                text => return Err(bad(format!("free_cache_writes {text:?} is not yes or no"))),
            };
            let mapped = MappedModel {
                model: cell(Some(model)).to_owned(),
                long_context_threshold,
                free_cache_writes,
            };
            if entries.insert(key.clone(), mapped).is_some() {
                return Err(bad(format!("{} {:?} is mapped twice", key.0, key.1)));
            }
        }
        Ok(ModelMap { entries })
    }

    /// The map shipped with the binary.
    pub fn built_in() -> ModelMap {
        ModelMap::from_csv(DEFAULT_MODEL_MAP.as_bytes()).expect("the shipped model map is valid")
    }

    fn get(&self, offer: &str, name: &str) -> Option<&MappedModel> {
        self.entries.get(&(offer.to_owned(), name.to_owned()))
    }
}

/// Which price of a row a dimension is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bucket {
    Input,
    Output,
    CacheRead,
    CacheWrite5m,
    CacheWrite1h,
}

/// What a usage type prices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    pub bucket: Bucket,
    /// `global`, `geo`, or `*` for the regional price that in-region and geo calls pay.
    pub scope: &'static str,
    pub tier: &'static str,
    pub long_context: bool,
}

/// Classifies a usage type (with the product's `feature`), or says why it cannot be imported.
pub fn classify(usage_type: &str, feature: &str) -> Result<Charge, String> {
    let usage = usage_type.to_ascii_lowercase();
    let feature = feature.to_ascii_lowercase();
    if ["provisioned", "reserved", "customization", "custom-model"]
        .iter()
        .any(|w| usage.contains(w) || feature.contains(w))
    {
        return Err("provisioned, reserved or customization: billed by time, not per token".into());
    }
    if usage.contains("batch") || feature.contains("batch") {
        return Err("batch inference: not in invocation logs".into());
    }
    // Three spellings: `…_InputTokenCount-Units` (Marketplace), `…-input-tokens` (first-party),
    // and `…_input_tokens_standard-Units` (Marketplace, newest Claude models).
    let has = |words: &[&str]| words.iter().any(|w| usage.contains(w));
    let bucket = if has(&["cachewrite1h", "cache_write_tokens_1h"])
        || usage.contains("cache-write") && has_1h(&usage)
    {
        Bucket::CacheWrite1h
    } else if has(&["cachewrite", "cache-write", "cache_write_tokens"]) {
        Bucket::CacheWrite5m
    } else if has(&["cacheread", "cache-read", "cache_read_tokens"]) {
        Bucket::CacheRead
    } else if has(&["inputtokencount", "input-tokens", "_input_tokens"]) {
        Bucket::Input
    } else if has(&["outputtokencount", "output-tokens", "_output_tokens"]) {
        Bucket::Output
    } else {
        return Err("not a token price".into());
    };
    if ["image", "speech", "audio", "video"]
        .iter()
        .any(|w| usage.contains(w))
    {
        return Err("not a text token price".into());
    }
    let scope = if usage.contains("_global") || usage.contains("cross-region-global") {
        "global"
    } else if usage.contains("cross-region-geo") {
        "geo"
    } else {
        "*"
    };
    let tier = if usage.contains("flex") {
        "flex"
    } else if usage.contains("priority") {
        "priority"
    } else if usage.contains("latency-optimized") || usage.contains("latencyoptimized") {
        "optimized"
    } else {
        STANDARD_TIER
    };
    let long_context = ["long-context", "long-ctx", "longcontext", "long_ctx"]
        .iter()
        .any(|w| usage.contains(w));
    Ok(Charge {
        bucket,
        scope,
        tier,
        long_context,
    })
}

fn has_1h(usage: &str) -> bool {
    ["-1h", "1h-", "-1-hour", "-1hour"]
        .iter()
        .any(|w| usage.contains(w))
}

/// A price in USD per `unit` → 10⁻⁶ USD per million tokens, exactly, or why not.
pub fn rate_per_million(usd: &str, unit: &str, offer_code: &str) -> Result<i128, String> {
    // log10 of the tokens one unit holds.
    let unit_digits: usize = match unit.to_ascii_lowercase().as_str() {
        "1k tokens" => 3,
        "tokens" => 0,
        "1m tokens" => 6,
        // Marketplace listings price a million tokens per "unit".
        "units" if offer_code == "AmazonBedrockFoundationModels" => 6,
        _ => return Err(format!("unknown unit {unit:?}")),
    };
    let (whole, fraction) = usd.split_once('.').unwrap_or((usd, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(fraction.is_empty() || digits(fraction)) {
        return Err(format!("price {usd:?} is not a decimal"));
    }
    // Per million tokens is whole.fraction × 10^(6 − unit_digits); in 10⁻⁶ units, RATE_SCALE more.
    let shift = 6 - unit_digits + RATE_SCALE as usize;
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > shift {
        return Err(format!(
            "price {usd:?} per {unit} has more decimals than the book keeps"
        ));
    }
    format!("{whole}{fraction:0<shift$}")
        .parse::<i128>()
        .map_err(|_| format!("price {usd:?} is too large"))
}

/// A price that could not be imported, with why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NotImported {
    pub offer_code: String,
    pub name: String,
    pub usage_type: String,
    pub reason: String,
}

/// What the offers give: rows for the book, and what they could not give.
#[derive(Debug, Default)]
pub struct Imported {
    pub rows: Vec<PriceRow>,
    pub not_imported: Vec<NotImported>,
}

/// (model, scope, region, tier)
type GroupKey = (String, &'static str, String, &'static str);

/// The rows of one (model, scope, tier), by region.
type RowsByRegion = BTreeMap<(String, &'static str, &'static str), Vec<(String, PriceRow)>>;

#[derive(Default)]
struct Group {
    standard: BTreeMap<Bucket, i128>,
    long: BTreeMap<Bucket, i128>,
    effective: Option<NaiveDate>,
    sources: BTreeSet<String>,
    threshold: Option<u64>,
    free_cache_writes: bool,
}

/// The product name the map is keyed by.
fn product_name(price: &OfferPrice) -> String {
    if price.offer_code == "AmazonBedrockFoundationModels" {
        let name = price.attribute("servicename");
        name.strip_suffix(" (Amazon Bedrock Edition)")
            .unwrap_or(name)
            .to_owned()
    } else {
        let model = price.attribute("model");
        if model.is_empty() {
            price.attribute("titanModel").to_owned()
        } else {
            model.to_owned()
        }
    }
}

/// Turns the prices of `offers` into price-book rows. Each (model, scope, tier)'s rates in
/// [`REFERENCE_REGION`] become a row for any region (`*`); another region gets its own row only
/// where its rates differ.
pub fn import(offers: &[Offer], map: &ModelMap) -> Imported {
    let mut groups: BTreeMap<GroupKey, Group> = BTreeMap::new();
    let mut imported = Imported::default();
    for price in offers.iter().flat_map(|o| &o.prices) {
        let name = product_name(price);
        let priced = classify(price.usage_type(), price.attribute("feature")).and_then(|charge| {
            let mapped = map
                .get(&price.offer_code, &name)
                .ok_or("no model id for this name in the model map")?;
            let rate = rate_per_million(&price.usd, &price.unit, &price.offer_code)?;
            Ok((charge, mapped, rate))
        });
        let (charge, mapped, rate) = match priced {
            Ok(priced) => priced,
            Err(reason) => {
                imported.not_imported.push(NotImported {
                    offer_code: price.offer_code.clone(),
                    name,
                    usage_type: price.usage_type().to_owned(),
                    reason,
                });
                continue;
            }
        };
        let region = price.attribute("regionCode").to_owned();
        let key = (mapped.model.clone(), charge.scope, region, charge.tier);
        let group = groups.entry(key).or_default();
        let rates = if charge.long_context {
            &mut group.long
        } else {
            &mut group.standard
        };
        rates.insert(charge.bucket, rate);
        group.effective = group.effective.max(price.effective_date);
        group.threshold = mapped.long_context_threshold;
        group.free_cache_writes = mapped.free_cache_writes;
        group.sources.insert(format!(
            "AWS Price List {} {} ({})",
            price.offer_code,
            price.version,
            price.attribute("regionCode")
        ));
    }

    let mut by_region = RowsByRegion::new();
    for ((model, scope, region, tier), group) in groups {
        let name = format!("{model} {scope} {region} {tier}");
        match group_row(&model, scope, tier, &group) {
            Ok(row) => by_region
                .entry((model, scope, tier))
                .or_default()
                .push((region, row)),
            Err(reason) => imported.not_imported.push(NotImported {
                offer_code: String::new(),
                name,
                usage_type: String::new(),
                reason,
            }),
        }
    }
    for rows in by_region.into_values() {
        let reference = rows
            .iter()
            .find(|(region, _)| region == REFERENCE_REGION)
            .map(|(_, row)| row.clone());
        for (region, mut row) in rows {
            if let Some(reference) = &reference {
                if region == REFERENCE_REGION {
                    row.note = format!(
                        "the {REFERENCE_REGION} price, for every region without a row of its own"
                    );
                    imported.rows.push(row);
                    continue;
                }
                if reference.standard == row.standard && reference.long_context == row.long_context
                {
                    continue;
                }
            }
            row.region = Selector::Exact(region);
            imported.rows.push(row);
        }
    }
    imported
        .rows
        .sort_by_key(|row| (row.key(), row.effective_from));
    imported.not_imported.sort();
    imported.not_imported.dedup();
    imported
}

fn group_row(model: &str, scope: &str, tier: &str, group: &Group) -> Result<PriceRow, String> {
    let rates = |prices: &BTreeMap<Bucket, i128>| -> Result<Rates, String> {
        let (Some(&input), Some(&output)) =
            (prices.get(&Bucket::Input), prices.get(&Bucket::Output))
        else {
            return Err("the offers give no input or no output price".into());
        };
        // A model the map says writes its cache for free has no cache-write price in the offer.
        let caches = prices.contains_key(&Bucket::CacheRead);
        let write = |bucket| {
            prices
                .get(&bucket)
                .copied()
                .or((group.free_cache_writes && caches).then_some(0))
        };
        Ok(Rates {
            input,
            output,
            cache_read: prices.get(&Bucket::CacheRead).copied(),
            cache_write_5m: write(Bucket::CacheWrite5m),
            cache_write_1h: write(Bucket::CacheWrite1h),
        })
    };
    let long_context = if group.long.is_empty() {
        None
    } else {
        let threshold = group
            .threshold
            .ok_or("long-context prices, but the model map gives no threshold")?;
        Some((threshold, rates(&group.long)?))
    };
    Ok(PriceRow {
        line: 0,
        model: model.to_owned(),
        scope: if scope == "*" {
            Selector::Any
        } else {
            Selector::Exact(scope.to_owned())
        },
        region: Selector::Any,
        tier: tier.to_owned(),
        effective_from: group.effective.ok_or("the offers give no effective date")?,
        standard: rates(&group.standard)?,
        long_context,
        source: group.sources.iter().cloned().collect::<Vec<_>>().join("; "),
        note: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_usage_types_of_both_grammars() {
        let charge = |bucket, scope, tier, long_context| {
            Ok(Charge {
                bucket,
                scope,
                tier,
                long_context,
            })
        };
        use Bucket::*;
        let cases: &[(&str, &str, Result<Charge, String>)] = &[
            (
                "USE1-MP:USE1_InputTokenCount-Units",
                "",
                charge(Input, "*", "standard", false),
            ),
            (
                "USE1-MP:USE1_OutputTokenCount_Global-Units",
                "",
                charge(Output, "global", "standard", false),
            ),
            (
                "USE1-MP:USE1_CacheReadInputTokenCount-Units",
                "",
                charge(CacheRead, "*", "standard", false),
            ),
            (
                "USE1-MP:USE1_CacheWriteInputTokenCount_Global-Units",
                "",
                charge(CacheWrite5m, "global", "standard", false),
            ),
            (
                "USE1-MP:USE1_CacheWrite1hInputTokenCount-Units",
                "",
                charge(CacheWrite1h, "*", "standard", false),
            ),
            (
                "USE1-Claude2.0-input-tokens",
                "On-demand Inference",
                charge(Input, "*", "standard", false),
            ),
            (
                "USE1-NovaLite-cache-read-input-token-count",
                "",
                charge(CacheRead, "*", "standard", false),
            ),
            (
                "USE1-Nova2.0Lite-output-tokens-cross-region-global",
                "",
                charge(Output, "global", "standard", false),
            ),
            (
                "USE1-NovaPro-input-tokens-latency-optimized",
                "",
                charge(Input, "*", "optimized", false),
            ),
            (
                "USE1-Claude4Sonnet-input-tokens-flex",
                "",
                charge(Input, "*", "flex", false),
            ),
            (
                "USE1-Claude4Sonnet-output-tokens-long-context-cross-region-global",
                "",
                charge(Output, "global", "standard", true),
            ),
            (
                "USE1-X-cache-write-input-token-count-1h",
                "",
                charge(CacheWrite1h, "*", "standard", false),
            ),
            (
                "USW2-MP:USW2_input_tokens_standard-Units",
                "",
                charge(Input, "*", "standard", false),
            ),
            (
                "USW2-MP:USW2_output_tokens_global_standard-Units",
                "",
                charge(Output, "global", "standard", false),
            ),
            (
                "EU-MP:EU_cache_read_tokens_standard-Units",
                "",
                charge(CacheRead, "*", "standard", false),
            ),
            (
                "USW2-MP:USW2_cache_write_tokens_standard-Units",
                "",
                charge(CacheWrite5m, "*", "standard", false),
            ),
            (
                "USW2-MP:USW2_cache_write_tokens_1h_global_standard-Units",
                "",
                charge(CacheWrite1h, "global", "standard", false),
            ),
            (
                "USE1-MP:USE1_input_tokens_long_ctx_flex-Units",
                "",
                charge(Input, "*", "flex", true),
            ),
            (
                "USE1-MP:USE1_InputTokenCount_Global_Batch-Units",
                "",
                Err("batch inference: not in invocation logs".into()),
            ),
            (
                "USE1-NovaLite-input-tokens",
                "Batch Inference",
                Err("batch inference: not in invocation logs".into()),
            ),
            (
                "USE1-NovaLite-ProvisionedThroughput",
                "Provisioned Throughput Inference - 1 month",
                Err("provisioned, reserved or customization: billed by time, not per token".into()),
            ),
            (
                "USE1-NovaCanvas-T2I-1024-Standard",
                "",
                Err("not a token price".into()),
            ),
            (
                "USE1-NovaSonic-speech-input-tokens",
                "",
                Err("not a text token price".into()),
            ),
        ];
        for (usage_type, feature, expected) in cases {
            assert_eq!(&classify(usage_type, feature), expected, "{usage_type}");
        }
    }

    #[test]
    fn converts_every_unit_to_an_exact_rate_per_million() {
        let cases: &[(&str, &str, &str, Result<i128, ()>)] = &[
            ("0.0080000000", "1K tokens", "AmazonBedrock", Ok(8_000_000)),
            ("0.0000350000", "1K tokens", "AmazonBedrock", Ok(35_000)),
            ("0.0000000825", "Tokens", "AmazonBedrock", Ok(82_500)),
            (
                "3.3000000000",
                "Units",
                "AmazonBedrockFoundationModels",
                Ok(3_300_000),
            ),
            ("6.875", "1M tokens", "AmazonBedrockService", Ok(6_875_000)),
            ("3", "Units", "AmazonBedrock", Err(())),
            ("0.00000000001", "1K tokens", "AmazonBedrock", Err(())),
            ("abc", "1K tokens", "AmazonBedrock", Err(())),
            ("0.1", "Hrs", "AmazonBedrock", Err(())),
        ];
        for (usd, unit, offer, expected) in cases {
            assert_eq!(
                rate_per_million(usd, unit, offer).map_err(|_| ()),
                *expected,
                "{usd} per {unit}"
            );
        }
    }

    #[test]
    fn imports_a_region_only_where_it_differs_from_the_reference() {
        let dimension = |sku: &str, region: &str, usage: &str, usd: &str| {
            format!(
                r#""{sku}":{{"sku":"{sku}","productFamily":"Amazon Bedrock","attributes":{{"model":"M","regionCode":"{region}","usagetype":"{usage}"}}}}"#
            ) + "\u{0}"
                + &format!(
                    r#""{sku}":{{"{sku}.JRTCKXETXF":{{"offerTermCode":"JRTCKXETXF","sku":"{sku}","effectiveDate":"2025-03-01T00:00:00Z","priceDimensions":{{"{sku}.JRTCKXETXF.6YS6EN2CT7":{{"unit":"1K tokens","beginRange":"0","endRange":"Inf","pricePerUnit":{{"USD":"{usd}"}}}}}}}}}}"#
                )
        };
        let parts = [
            dimension("A", "us-east-1", "USE1-M-input-tokens", "0.001"),
            dimension("B", "us-east-1", "USE1-M-output-tokens", "0.002"),
            dimension("C", "us-west-2", "USW2-M-input-tokens", "0.001"),
            dimension("D", "us-west-2", "USW2-M-output-tokens", "0.002"),
            dimension("E", "eu-west-1", "EU-M-input-tokens", "0.0012"),
            dimension("F", "eu-west-1", "EU-M-output-tokens", "0.0024"),
        ];
        let (products, terms): (Vec<&str>, Vec<&str>) =
            parts.iter().map(|p| p.split_once('\u{0}').unwrap()).unzip();
        let json = format!(
            r#"{{"offerCode":"AmazonBedrock","version":"v1","products":{{{}}},"terms":{{"OnDemand":{{{}}}}}}}"#,
            products.join(","),
            terms.join(",")
        );
        let offer = Offer::from_json(json.as_bytes(), "test").unwrap();
        let map = ModelMap::from_csv(b"offer,name,model\nAmazonBedrock,M,m-v1:0\n").unwrap();
        let imported = import(&[offer], &map);
        assert!(
            imported.not_imported.is_empty(),
            "{:?}",
            imported.not_imported
        );
        let rows: Vec<(String, i128, i128, String)> = imported
            .rows
            .iter()
            .map(|r| {
                (
                    r.reference(),
                    r.standard.input,
                    r.standard.output,
                    r.source.clone(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "m-v1:0|*|*|2025-03-01".to_owned(),
                    1_000_000,
                    2_000_000,
                    "AWS Price List AmazonBedrock v1 (us-east-1)".to_owned()
                ),
                (
                    "m-v1:0|*|eu-west-1|2025-03-01".to_owned(),
                    1_200_000,
                    2_400_000,
                    "AWS Price List AmazonBedrock v1 (eu-west-1)".to_owned()
                ),
            ]
        );
        assert!(
            Offer::from_json(b"{\"products\":{}}", "x.json")
                .unwrap_err()
                .to_string()
                .starts_with("x.json: not a Price List offer file")
        );
    }

    #[test]
    fn refuses_a_bad_model_map_naming_the_line() {
        let cases: &[(&str, &str)] = &[
            ("offer,name\n", "model map line 1: the header lacks `model`"),
            (
                "offer,name,model\nAmazonBedrock,,m\n",
                "model map line 2: `offer`, `name` and `model` must not be empty",
            ),
            (
                "offer,name,model\nA,n,m\nA,n,k\n",
                "model map line 3: A \"n\" is mapped twice",
            ),
            (
                "offer,name,model,free_cache_writes\nA,n,m,maybe\n",
                "model map line 2: free_cache_writes \"maybe\" is not yes or no",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(
                ModelMap::from_csv(text.as_bytes()).unwrap_err().to_string(),
                *message
            );
        }
        ModelMap::built_in();
    }
}
