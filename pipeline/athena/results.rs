//! Athena's result rows (every value a string, `NULL` a missing value) into Arrow batches typed
//! by the result's column metadata, so that they print exactly as the local engine's do.
//!
//! A value that does not parse as its column's type is refused with its row and column, never
//! turned into a null or a zero.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::util::display::FormatOptions;

use super::AthenaError;
use crate::query::QueryResult;

/// A result column as `ResultSetMetadata.ColumnInfo` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// Athena's type name: `varchar`, `bigint`, `decimal`, `timestamp with time zone`, ...
    pub type_name: String,
    pub precision: i32,
    pub scale: i32,
}

impl Column {
    /// The Arrow type the column's values parse into. Types with no Arrow counterpart used by
    /// this tool (arrays, maps, rows, JSON, binary, intervals) stay the text Athena printed.
    fn data_type(&self) -> DataType {
        let utc = || Some(Arc::from("UTC"));
        match self.type_name.to_ascii_lowercase().as_str() {
            "boolean" => DataType::Boolean,
            "tinyint" => DataType::Int8,
            "smallint" => DataType::Int16,
            "integer" | "int" => DataType::Int32,
            "bigint" => DataType::Int64,
            "real" | "float" => DataType::Float32,
            "double" => DataType::Float64,
            "decimal" => DataType::Decimal128(
                u8::try_from(self.precision).unwrap_or(38).clamp(1, 38),
                i8::try_from(self.scale).unwrap_or(0),
            ),
            "date" => DataType::Date32,
            "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, None),
            "timestamp with time zone" => DataType::Timestamp(TimeUnit::Microsecond, utc()),
            _ => DataType::Utf8,
        }
    }
}

/// Builds the result of `columns` and `rows` (the header row Athena puts first already
/// removed, see [`is_header`]).
pub fn to_result(
    columns: &[Column],
    rows: &[Vec<Option<String>>],
) -> Result<QueryResult, AthenaError> {
    let mut fields = Vec::with_capacity(columns.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
    for (index, column) in columns.iter().enumerate() {
        let data_type = column.data_type();
        let texts: StringArray = rows
            .iter()
            .map(|row| row.get(index).cloned().flatten())
            .map(|value| value.map(|text| normalize(&data_type, text)))
            .collect();
        let array = parse_column(&texts, &data_type).map_err(|detail| {
            let row = first_unparsable_row(&texts, &data_type).unwrap_or(0);
            AthenaError::Value {
                column: column.name.clone(),
                type_name: column.type_name.clone(),
                row: row + 1,
                value: texts.value(row).to_owned(),
                detail,
            }
        })?;
        fields.push(Field::new(&column.name, data_type, true));
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new_with_options(
        Arc::clone(&schema),
        arrays,
        &arrow::array::RecordBatchOptions::new().with_row_count(Some(rows.len())),
    )
    .map_err(|e| AthenaError::Malformed(e.to_string()))?;
    Ok(QueryResult {
        schema,
        batches: vec![batch],
    })
}

/// Whether `row` is the header Athena puts first on the first page of a `SELECT`'s results:
/// the column names, in order. (PyAthena recognizes it the same way.)
pub fn is_header(columns: &[Column], row: &[Option<String>]) -> bool {
    columns.len() == row.len()
        && columns
            .iter()
            .zip(row)
            .all(|(column, value)| value.as_deref() == Some(column.name.as_str()))
}

/// Athena prints a `timestamp with time zone` as `2025-10-01 12:00:00.000 UTC`; Arrow parses a
/// zone as an offset or `Z`.
fn normalize(data_type: &DataType, text: String) -> String {
    match data_type {
        DataType::Timestamp(_, Some(_)) => match text.strip_suffix(" UTC") {
            Some(utc) => format!("{utc}Z"),
            None => text,
        },
        _ => text,
    }
}

fn parse_column(texts: &StringArray, data_type: &DataType) -> Result<ArrayRef, String> {
    let options = CastOptions {
        safe: false,
        format_options: FormatOptions::default(),
    };
    cast_with_options(texts, data_type, &options).map_err(|e| e.to_string())
}

/// The first row whose value alone does not parse.
fn first_unparsable_row(texts: &StringArray, data_type: &DataType) -> Option<usize> {
    (0..texts.len()).find(|&row| parse_column(&texts.slice(row, 1), data_type).is_err())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{OutputFormat, format_result};

    fn column(name: &str, type_name: &str, precision: i32, scale: i32) -> Column {
        Column {
            name: name.to_owned(),
            type_name: type_name.to_owned(),
            precision,
            scale,
        }
    }

    fn row(values: &[Option<&str>]) -> Vec<Option<String>> {
        values.iter().map(|v| v.map(str::to_owned)).collect()
    }

    #[test]
    fn parses_each_type_as_athena_prints_it() {
        let cases: &[(&str, i32, i32, &str, &str)] = &[
            ("varchar", 0, 0, "jane@example.com", "jane@example.com"),
            // Arrow's CSV writer quotes an empty string, which tells it from a null.
            ("varchar", 0, 0, "", "\"\""),
            ("bigint", 19, 0, "-42", "-42"),
            ("integer", 10, 0, "7", "7"),
            ("decimal", 38, 6, "12.500000", "12.500000"),
            ("decimal", 38, 12, "-0.000000000001", "-0.000000000001"),
            ("double", 17, 0, "42.86", "42.86"),
            ("double", 17, 0, "1.0E-4", "0.0001"),
            ("boolean", 0, 0, "true", "true"),
            ("date", 0, 0, "2025-10-01", "2025-10-01"),
            (
                "timestamp",
                3,
                0,
                "2025-10-01 12:00:00.123",
                "2025-10-01T12:00:00.123",
            ),
            (
                "timestamp with time zone",
                3,
                0,
                "2025-10-01 12:00:00.123 UTC",
                "2025-10-01T12:00:00.123Z",
            ),
            ("array", 0, 0, "[a, b]", "\"[a, b]\""),
        ];
        for (type_name, precision, scale, text, csv) in cases {
            let columns = [column("v", type_name, *precision, *scale)];
            let result = to_result(&columns, &[row(&[Some(text)])]).unwrap();
            let printed = format_result(&result, OutputFormat::Csv).unwrap();
            assert_eq!(
                String::from_utf8(printed).unwrap(),
                format!("v\n{csv}\n"),
                "{type_name} {text:?}"
            );
        }
    }

    #[test]
    fn a_missing_value_is_null_and_an_empty_one_is_not() {
        let columns = [
            column("team", "varchar", 0, 0),
            column("n", "bigint", 19, 0),
        ];
        let result =
            to_result(&columns, &[row(&[None, None]), row(&[Some(""), Some("1")])]).unwrap();
        let batch = &result.batches[0];
        assert!(batch.column(0).is_null(0) && batch.column(1).is_null(0));
        assert!(batch.column(0).is_valid(1) && batch.column(1).is_valid(1));
    }

    #[test]
    fn refuses_a_value_that_is_not_of_its_type() {
        let columns = [column("cost_usd", "decimal", 38, 6)];
        let rows = [
            row(&[Some("1.5")]),
            row(&[Some("1.5")]),
            row(&[Some("lots")]),
        ];
        let error = to_result(&columns, &rows).unwrap_err();
        assert!(
            matches!(&error, AthenaError::Value { column, row: 3, value, .. }
                if column == "cost_usd" && value == "lots"),
            "{error:?}"
        );
    }

    #[test]
    fn keeps_the_columns_of_an_empty_result() {
        let columns = [
            column("month", "varchar", 0, 0),
            column("n", "bigint", 19, 0),
        ];
        let result = to_result(&columns, &[]).unwrap();
        let printed = format_result(&result, OutputFormat::Csv).unwrap();
        assert_eq!(printed, b"month,n\n");
    }

    #[test]
    fn recognizes_the_header_row() {
        let columns = [
            column("month", "varchar", 0, 0),
            column("n", "bigint", 19, 0),
        ];
        assert!(is_header(&columns, &row(&[Some("month"), Some("n")])));
        assert!(!is_header(&columns, &row(&[Some("2025-10"), Some("3")])));
        assert!(!is_header(&columns, &row(&[Some("month")])));
        assert!(!is_header(&columns, &row(&[Some("month"), None])));
    }
}
