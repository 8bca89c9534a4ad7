//! Loading the files that steer a run (profile map, price book, teams), refusing bad ones with
//! the file named before any work starts.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use bedrock_ledger::attribution::TeamRules;
use bedrock_ledger::normalize::ProfileMap;
use bedrock_ledger::pricing::PriceBookInUse;

/// `--profiles FILE`: application inference profiles → models (and team tags).
pub fn profiles(path: Option<&Path>) -> Result<ProfileMap> {
    let Some(path) = path else {
        return Ok(ProfileMap::default());
    };
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    ProfileMap::from_csv(file).with_context(|| format!("reading {}", path.display()))
}

/// `--prices FILE`, or the price book shipped with the binary.
pub fn prices(path: Option<&Path>) -> Result<PriceBookInUse> {
    let Some(path) = path else {
        return Ok(PriceBookInUse::built_in());
    };
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    PriceBookInUse::parse(&bytes, path.display().to_string())
        .with_context(|| format!("refusing the price book {}", path.display()))
}

/// `--teams FILE`: identity globs → team and cost center.
pub fn teams(path: Option<&Path>) -> Result<TeamRules> {
    let Some(path) = path else {
        return Ok(TeamRules::default());
    };
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    TeamRules::from_csv(file).with_context(|| format!("reading {}", path.display()))
}

/// The dataset directory, which must exist for commands that only read it.
pub fn existing_dataset(data: &Path) -> Result<PathBuf> {
    if !data.is_dir() {
        bail!(
            "no dataset at {} (run `bedrock-ledger ingest` first)",
            data.display()
        );
    }
    Ok(data.to_owned())
}

/// `--month`, checked.
pub fn month(text: &str) -> Result<String, String> {
    bedrock_ledger::report::parse_month(text)
}
