//! The budgets file, `scope,pattern,monthly_usd`: one budget a row, read strictly (a malformed
//! row is refused with the line an editor shows it on), and whose requests each row covers.

use std::collections::HashMap;
use std::fmt;

use super::spend::ChargedGroup;
use super::{MAX_PICOS, PICOS_PER_MICRO};

/// The budgets file header, exactly.
const HEADER: [&str; 3] = ["scope", "pattern", "monthly_usd"];

/// Whose requests a budget row covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Scope {
    /// Requests attributed to a team whose name the pattern matches.
    Team,
    /// Requests made by an identity, or for an end user, the pattern matches.
    Identity,
}

impl Scope {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scope::Team => "team",
            Scope::Identity => "identity",
        }
    }

    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "team" => Ok(Scope::Team),
            "identity" => Ok(Scope::Identity),
            _ => Err(format!(
                "scope must be `team` or `identity`, found {text:?}"
            )),
        }
    }
}

/// One row of a budgets file.
#[derive(Clone, Debug)]
pub struct Budget {
    pub(crate) scope: Scope,
    pub(crate) pattern: glob::Pattern,
    /// The monthly budget in micro-dollars.
    pub monthly_micros: i128,
}

impl Budget {
    /// Whether the budget covers the requests of `group`.
    pub(crate) fn covers(&self, group: &ChargedGroup) -> bool {
        match self.scope {
            Scope::Team => self.pattern.matches(&group.team),
            Scope::Identity => {
                self.pattern.matches(&group.identity)
                    || (!group.end_user.is_empty() && self.pattern.matches(&group.end_user))
            }
        }
    }
}

impl fmt::Display for Budget {
    /// `team platform`, `identity arn:aws:iam::111122223333:user/*`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.scope.as_str(), self.pattern.as_str())
    }
}

/// The rows of a budgets file, in file order.
#[derive(Clone, Debug)]
pub struct Budgets {
    rows: Vec<Budget>,
}

/// Why a budgets file was refused.
#[derive(Debug, thiserror::Error)]
pub enum BudgetsFileError {
    #[error("the header must be `scope,pattern,monthly_usd`, found `{0}`")]
    Header(String),
    #[error("line {line}: {message}")]
    Row { line: u64, message: String },
    #[error("the file holds no budget, only a header")]
    Empty,
    #[error("{0}")]
    Csv(#[from] csv::Error),
}

impl Budgets {
    /// Reads a budgets file. A (scope, pattern) given twice is refused: which budget would hold?
    pub fn from_csv(bytes: &[u8]) -> Result<Self, BudgetsFileError> {
        let mut csv = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(bytes);
        let header = csv.headers()?.clone();
        if header.iter().collect::<Vec<_>>() != HEADER {
            return Err(BudgetsFileError::Header(
                header.iter().collect::<Vec<_>>().join(","),
            ));
        }
        let mut rows = Vec::new();
        let mut first_line: HashMap<(Scope, String), u64> = HashMap::new();
        for record in csv.records() {
            let record = record?;
            let line = record.position().map_or(0, |p| record_line(bytes, p));
            let row_error = |message: String| BudgetsFileError::Row { line, message };
            let [scope, pattern, amount] = [0, 1, 2].map(|i| record.get(i).unwrap_or_default());
            if record.len() != HEADER.len() {
                return Err(row_error(format!(
                    "expected 3 fields (scope,pattern,monthly_usd), found {}",
                    record.len()
                )));
            }
            let scope = Scope::parse(scope).map_err(row_error)?;
            if pattern.is_empty() {
                return Err(row_error("`pattern` must not be empty".to_owned()));
            }
            if let Some(first) = first_line.insert((scope, pattern.to_owned()), line) {
                return Err(row_error(format!(
                    "{} {pattern} already has a budget on line {first}",
                    scope.as_str()
                )));
            }
            let pattern = glob::Pattern::new(pattern)
                .map_err(|e| row_error(format!("pattern {pattern:?}: {e}")))?;
            let monthly_micros = parse_usd(amount).map_err(row_error)?;
            rows.push(Budget {
                scope,
                pattern,
                monthly_micros,
            });
        }
        if rows.is_empty() {
            return Err(BudgetsFileError::Empty);
        }
        Ok(Budgets { rows })
    }

    /// The rows in file order.
    pub(crate) fn rows(&self) -> &[Budget] {
        &self.rows
    }
}

/// The line a record starts on. The CSV reader places a record where it started reading, before
/// the blank lines it skipped: those are counted too.
fn record_line(bytes: &[u8], position: &csv::Position) -> u64 {
    let start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    let blank = bytes
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b == b'\n' || b == b'\r')
        .filter(|&&b| b == b'\n')
        .count();
    position.line() + blank as u64
}

/// A positive amount of USD with at most 6 decimals (`1500`, `99.95`), in micro-dollars. Read
/// digit by digit: never through a float.
fn parse_usd(text: &str) -> Result<i128, String> {
    let malformed = || {
        format!(
            "monthly_usd {text:?} is not an amount in USD (digits and at most 6 decimals, such as 1500 or 99.95)"
        )
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits(whole)
        || !digits(fraction)
        || (text.contains('.') && fraction.is_empty())
        || fraction.len() > 6
    {
        return Err(malformed());
    }
    let too_large = || format!("monthly_usd {text} is too large");
    let whole: i128 = whole.parse().map_err(|_| too_large())?;
    let fraction: i128 = format!("{fraction:0<6}").parse().map_err(|_| malformed())?;
    let micros = whole
        .checked_mul(1_000_000)
        .map(|m| m + fraction)
        .ok_or_else(too_large)?;
    if micros == 0 {
        return Err(format!("monthly_usd {text} must be more than 0"));
    }
    if micros * PICOS_PER_MICRO > MAX_PICOS {
        return Err(too_large());
    }
    Ok(micros)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budgets::tests::budgets;

    #[test]
    fn reads_budgets_files() {
        let lf = "scope,pattern,monthly_usd\n\
            team,platform,1500\n\
            \n\
            identity , arn:aws:iam::111122223333:user/* , 99.95\n\
            team,*,0.000001\n\
            identity,platform,12.5";
        let crlf = "scope,pattern,monthly_usd\r\n\r\n\
            team,platform,1500.000000\r\n\r\n\
            identity,arn:aws:iam::111122223333:user/*,99.950\r\n\
            team,*,0.000001\r\n\r\n\r\n\
            identity,platform,12.5\r\n";
        for file in [lf, crlf] {
            let budgets = budgets(file);
            let rows: Vec<(Scope, &str, i128)> = budgets
                .rows()
                .iter()
                .map(|b| (b.scope, b.pattern.as_str(), b.monthly_micros))
                .collect();
            assert_eq!(
                rows,
                [
                    (Scope::Team, "platform", 1_500_000_000),
                    (
                        Scope::Identity,
                        "arn:aws:iam::111122223333:user/*",
                        99_950_000
                    ),
                    (Scope::Team, "*", 1),
                    (Scope::Identity, "platform", 12_500_000),
                ],
                "{file:?}"
            );
        }
    }

    #[test]
    fn refuses_malformed_budgets_files() {
        let header = "scope,pattern,monthly_usd\n";
        let row = |line: &str| format!("{header}team,web,10\n{line}\n");
        let cases: Vec<(String, &str)> = vec![
            (
                "".into(),
                "the header must be `scope,pattern,monthly_usd`, found ``",
            ),
            ("pattern,team,cost_center\n".into(), "the header must be"),
            (
                "scope,pattern,monthly_usd,note\n".into(),
                "the header must be",
            ),
            (header.into(), "the file holds no budget"),
            (
                row("group,web,10"),
                "line 3: scope must be `team` or `identity`, found \"group\"",
            ),
            (row("Team,web,10"), "line 3: scope must be"),
            (row("team,,10"), "line 3: `pattern` must not be empty"),
            (row("team,web[,10"), "line 3: pattern \"web[\""),
            (
                row("team,web,20"),
                "line 3: team web already has a budget on line 2",
            ),
            (
                row("team,ads"),
                "line 3: expected 3 fields (scope,pattern,monthly_usd), found 2",
            ),
            (row("team,ads,1,2"), "line 3: expected 3 fields"),
            (
                row("team,ads,1000000000000001"),
                "line 3: monthly_usd 1000000000000001 is too large",
            ),
            // Blank lines and CRLF: the line is the file's, as an editor shows it.
            (
                format!("{header}\nteam,web,10\n\nteam,ads,x\n"),
                "line 5: monthly_usd \"x\" is not an amount",
            ),
            (
                format!("{header}\r\n\r\nteam,web,10\r\n\r\n\r\nteam,ads,x\r\n"),
                "line 7: monthly_usd \"x\" is not an amount",
            ),
            (
                row("team,ads,99999999999999999999999999999999999999999"),
                "line 3: monthly_usd 99999999999999999999999999999999999999999 is too large",
            ),
        ];
        for (text, message) in cases {
            let error = Budgets::from_csv(text.as_bytes()).unwrap_err().to_string();
            assert!(error.starts_with(message), "{text:?}: {error}");
        }
        let not_amounts = [
            "",
            "-5",
            "+5",
            "1e3",
            "1_000",
            "\"1,000\"",
            "$5",
            "1.",
            ".5",
            "1.2.3",
            "1.0000001",
            "ten",
            "0x10",
            " 5 0",
        ];
        for amount in not_amounts {
            let text = row(&format!("team,ads,{amount}"));
            let error = Budgets::from_csv(text.as_bytes()).unwrap_err().to_string();
            assert!(
                error.starts_with("line 3: monthly_usd \"") && error.contains("is not an amount"),
                "{text:?}: {error}"
            );
        }
        for zero in ["0", "0.0", "000.000000"] {
            let error = Budgets::from_csv(row(&format!("team,ads,{zero}")).as_bytes())
                .unwrap_err()
                .to_string();
            assert_eq!(
                error,
                format!("line 3: monthly_usd {zero} must be more than 0")
            );
        }
        // The largest budget there may be is accepted.
        assert_eq!(
            budgets(&row("team,ads,1000000000000000")).rows()[1].monthly_micros,
            1_000_000_000_000_000_000_000
        );
    }
}
