"""Seeds the local Athena API server (tests/aws_server.py) with the results its next queries
return, written the way Athena writes them: every value a string (decimals with all their
scale digits, timestamps as `2025-10-01 12:00:00.000 UTC`), NULL as a datum without a value,
and the column labels as the first row.

Usage:
  python tests/athena_seed.py ENDPOINT REGION parquet FILE...   one result per Parquet file
                                                               (what the local engine returned)
  python tests/athena_seed.py ENDPOINT REGION rows N             one bigint column `n`, 0..N-1
  python tests/athena_seed.py ENDPOINT REGION failed REASON      a query that fails with REASON
"""

import json
import sys
import urllib.request
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq


def athena_type(arrow_type):
    """(Type, Precision, Scale) as GetQueryResults' ColumnInfo gives them."""
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_decimal(arrow_type):
        return "decimal", arrow_type.precision, arrow_type.scale
    if pa.types.is_timestamp(arrow_type):
        return ("timestamp with time zone" if arrow_type.tz else "timestamp"), 3, 0
    simple = [
        (pa.types.is_string, "varchar", 2147483647),
        (pa.types.is_large_string, "varchar", 2147483647),
        (pa.types.is_string_view, "varchar", 2147483647),
        (pa.types.is_int64, "bigint", 19),
        (pa.types.is_int32, "integer", 10),
        (pa.types.is_float64, "double", 17),
        (pa.types.is_boolean, "boolean", 0),
        (pa.types.is_date32, "date", 0),
    ]
    for test, name, precision in simple:
        if test(arrow_type):
            return name, precision, 0
    raise ValueError(f"no Athena type for {arrow_type}")


def athena_text(value, type_name):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if type_name == "timestamp with time zone":
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d} UTC"
    if type_name == "timestamp":
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    return str(value)


def result_of(table):
    columns = []
    for field in table.schema:
        type_name, precision, scale = athena_type(field.type)
        columns.append(
            {"Name": field.name, "Label": field.name, "Type": type_name,
             "Precision": precision, "Scale": scale, "Nullable": "UNKNOWN"}
        )
    rows = [{"Data": [{"VarCharValue": c["Name"]} for c in columns]}]
    for record in table.to_pylist():
        rows.append({"Data": [
            {} if record[c["Name"]] is None else
            {"VarCharValue": athena_text(record[c["Name"]], c["Type"])}
            for c in columns
        ]})
    return {"rows": rows, "column_info": columns}


def post(endpoint, region, results):
    body = json.dumps({"region": region, "results": results}).encode()
    request = urllib.request.Request(
        f"{endpoint}/moto-api/static/athena/query-results", data=body, method="POST",
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 201, response.status


def main(endpoint, region, kind, *args):
    if kind == "parquet":
        results = [result_of(pq.read_table(path)) for path in args]
    elif kind == "rows":
        table = pa.table({"n": pa.array(range(int(args[0])), pa.int64())})
        results = [result_of(table)]
    elif kind == "failed":
        results = [{"rows": [], "state": "FAILED", "reason": args[0]}]
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    post(endpoint, region, results)


if __name__ == "__main__":
    main(*sys.argv[1:])
