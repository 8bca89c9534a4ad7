"""Checks that SQL is Athena SQL: each statement parses with sqlglot's Trino grammar (Athena's
engine; its Hive grammar for Athena's Hive-style DDL), and uses none of the DataFusion-only
constructs below, which the grammar alone accepts.

Usage:
  python tests/athena_sql.py FILE...           one query per file (queries/*.sql)
  python tests/athena_sql.py --statements -    `;`-separated statements on stdin (`athena ddl`)

A query file with an Athena variant (queries/athena/NAME.sql) is only parsed: Athena runs the
variant, which gets the full check. `$name` parameters are bound as the binary binds them, to
string literals. Prints one line per problem and exits 1 if there is any.
"""

import re
import sys
from pathlib import Path

import sqlglot
from sqlglot import ErrorLevel

# (pattern, why): constructs DataFusion accepts and Athena does not, or reads differently.
DATAFUSION_ONLY = [
    (r"\bmedian\s*\(", "no median in Athena: write the exact median with row_number()"),
    (r"\bpercentile_(cont|disc)\b|\bwithin\s+group\b", "no exact percentiles in Athena"),
    (r"\bapprox_percentile_cont\b", "DataFusion's name: Athena's is approx_percentile"),
    (r"\bto_char\s*\(", "no to_char in Athena: date_format(d, '%Y-%m') works in both"),
    (r"\binterval\s+'\s*\d+\s+[a-z]+'", "write INTERVAL '14' DAY: '14 days' is DataFusion's"),
    (r"::", "a Postgres cast: write CAST(x AS type)"),
    (r"\b\d+\.\d+\s*\*|\*\s*\d+\.\d+\b", "a decimal literal times an integer is a double in "
     "DataFusion and a decimal in Athena: CAST one side AS DOUBLE"),
    (r"\bdesc\b(?!\s+nulls\s+(first|last))", "say NULLS FIRST or NULLS LAST after DESC: "
     "DataFusion puts NULLs first, Athena last"),
    (r"\b(arrow_cast|arrow_typeof|date_part|string_agg|regexp_match|array_length)\s*\(",
     "a DataFusion function Athena does not have"),
    (r"\bilike\b", "no ILIKE in Athena: lower(x) LIKE ..."),
    (r"\$[a-z_]+", "an unbound parameter"),
]

PARAMETERS = {"$from_month": "'2025-10'", "$to_month": "'2025-11'", "$month": "'2025-10'"}


def without_comments(sql):
    return re.sub(r"--[^\n]*", "", sql)


def without_strings(sql):
    """String literals emptied, so that what they say is not taken for SQL; an interval's
    literal is kept, since its form is what differs."""
    return re.sub(r"(?<!interval )'(?:[^']|'')*'", "''", sql, flags=re.IGNORECASE)


def bind(sql):
    for name, literal in PARAMETERS.items():
        sql = sql.replace(name, literal)
    return sql


def grammar(statement):
    """Athena runs CREATE TABLE/DATABASE as Hive DDL, everything else (views too) as Trino."""
    hive_ddl = re.match(r"\s*(?:--[^\n]*\n\s*)*create\s+(external\s+table|database)",
                        statement, re.IGNORECASE)
    return "athena" if hive_ddl else "trino"


def check(name, sql, full=True):
    problems = []
    bound = bind(sql)
    if full:
        text = without_strings(without_comments(bound))
        for pattern, why in DATAFUSION_ONLY:
            for match in re.finditer(pattern, text, re.IGNORECASE):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{name}:{line}: {match.group(0).strip()!r}: {why}")
    try:
        trees = sqlglot.parse(bound, read=grammar(bound), error_level=ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as error:
        problems.append(f"{name}: not Athena SQL: {error}")
    else:
        statements = [t for t in trees if t is not None]
        if not statements:
            problems.append(f"{name}: no statement")
    return problems


def main(argv):
    problems = []
    if argv[:1] == ["--statements"]:
        text = sys.stdin.read() if argv[1:] == ["-"] else Path(argv[1]).read_text()
        statements = [s for s in re.split(r";\s*\n", text) if s.strip()]
        for index, statement in enumerate(statements, 1):
            problems += check(f"statement {index}", statement)
        checked = len(statements)
    else:
        for path in map(Path, argv):
            variant = path.parent / "athena" / path.name
            problems += check(str(path), path.read_text(), full=not variant.exists())
        checked = len(argv)
    for problem in problems:
        print(problem)
    print(f"athena_sql: {checked} checked, {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems or not checked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
