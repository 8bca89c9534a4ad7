//! `$name` parameters bound as SQL string literals, so that one SQL text runs unchanged on
//! DataFusion and on Athena: Athena's parameters are positional `?` with their values passed
//! beside the text, DataFusion's are `$name` or `$1`, and no form is common to both.
//!
//! Written by hand: a SQL parser (sqlparser, under DataFusion) would find the placeholders, but
//! printing the tree back gives DataFusion's spelling of the statement, not the text Athena was
//! written for. This scanner only needs to know where strings, quoted names and comments are,
//! so that a `$` inside them stays as it is.

/// A `$name` in the SQL that no parameter binds.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the SQL uses ${name}, which nothing binds (bound: {bound})")]
pub struct UnboundParameter {
    pub name: String,
    pub bound: String,
}

/// `sql` with every `$name` outside strings, quoted names and comments replaced by the value
/// of `name` in `params`, quoted as a SQL string literal.
pub fn bind(sql: &str, params: &[(&str, &str)]) -> Result<String, UnboundParameter> {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(c) = rest.chars().next() {
        let skipped = match c {
            '\'' => quoted_len(rest, '\''),
            '"' => quoted_len(rest, '"'),
            '-' if rest.starts_with("--") => rest.find('\n').unwrap_or(rest.len()),
            '/' if rest.starts_with("/*") => rest[2..].find("*/").map_or(rest.len(), |i| i + 4),
            '$' => {
                let name_len = rest[1..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len() - 1);
                let name = &rest[1..1 + name_len];
                if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                    c.len_utf8()
                } else {
                    let value = params
                        .iter()
                        .find(|(bound, _)| *bound == name)
                        .map(|(_, value)| value)
                        .ok_or_else(|| UnboundParameter {
                            name: name.to_owned(),
                            bound: params
                                .iter()
                                .map(|(name, _)| format!("${name}"))
                                .collect::<Vec<_>>()
                                .join(", "),
                        })?;
                    out.push('\'');
                    out.push_str(&value.replace('\'', "''"));
                    out.push('\'');
                    rest = &rest[1 + name_len..];
                    continue;
                }
            }
            _ => c.len_utf8(),
        };
        out.push_str(&rest[..skipped]);
        rest = &rest[skipped..];
    }
    Ok(out)
}

/// The length of the quoted token at the start of `text` (a doubled quote stays inside it);
/// an unterminated one runs to the end.
fn quoted_len(text: &str, quote: char) -> usize {
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            if chars.peek().map(|(_, next)| *next) == Some(quote) {
                chars.next();
            } else {
                return i + 1;
            }
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_names_outside_strings_names_and_comments() {
        let params = [
            ("from_month", "2025-10"),
            ("to_month", "2025-12"),
            ("q", "it's"),
        ];
        let cases: &[(&str, &str)] = &[
            (
                "WHERE month BETWEEN $from_month AND $to_month",
                "WHERE month BETWEEN '2025-10' AND '2025-12'",
            ),
            ("SELECT $from_month || '-01'", "SELECT '2025-10' || '-01'"),
            (
                "SELECT '$from_month', \"$to_month\"",
                "SELECT '$from_month', \"$to_month\"",
            ),
            ("SELECT 'it''s $q', $q", "SELECT 'it''s $q', 'it''s'"),
            (
                "-- $nothing here\nSELECT $q",
                "-- $nothing here\nSELECT 'it''s'",
            ),
            ("/* $nothing */ SELECT 1", "/* $nothing */ SELECT 1"),
            ("SELECT $1, $ , x$", "SELECT $1, $ , x$"),
            ("SELECT ($to_month)", "SELECT ('2025-12')"),
            ("SELECT 'unterminated $q", "SELECT 'unterminated $q"),
            ("SELECT 'é' || $q", "SELECT 'é' || 'it''s'"),
        ];
        for (sql, bound) in cases {
            assert_eq!(bind(sql, &params).as_deref(), Ok(*bound), "{sql}");
        }
    }

    #[test]
    fn refuses_an_unbound_name() {
        let error = bind("SELECT $month", &[("from_month", "2025-10")]).unwrap_err();
        assert_eq!(error.name, "month");
        assert_eq!(
            error.to_string(),
            "the SQL uses $month, which nothing binds (bound: $from_month)"
        );
    }
}
