//! Reading typed values out of query results by column position.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Decimal128Type, Int64Type, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType,
};

/// Typed access to the columns of one batch. Panics on a type the query did not produce:
/// the queries are ours, so a mismatch is a bug, not bad input.
pub struct Columns<'a> {
    batch: &'a RecordBatch,
}

impl<'a> Columns<'a> {
    pub fn new(batch: &'a RecordBatch) -> Self {
        Columns { batch }
    }

    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    fn column(&self, index: usize) -> &'a dyn Array {
        self.batch.column(index).as_ref()
    }

    /// A string (Utf8 or Utf8View) cell.
    pub fn text(&self, index: usize, row: usize) -> Option<String> {
        let column = self.column(index);
        if column.is_null(row) {
            return None;
        }
        Some(match column.data_type() {
            DataType::Utf8View => column.as_string_view().value(row).to_owned(),
            DataType::LargeUtf8 => column.as_string::<i64>().value(row).to_owned(),
            // Delta hands partition values back dictionary-encoded.
            DataType::Dictionary(_, _) => {
                let one = arrow::compute::cast(&column.slice(row, 1), &DataType::Utf8)
                    .expect("a dictionary of strings casts to strings");
                one.as_string::<i32>().value(0).to_owned()
            }
            _ => column.as_string::<i32>().value(row).to_owned(),
        })
    }

    /// An integer cell (null as 0).
    pub fn integer(&self, index: usize, row: usize) -> i64 {
        let column = self.column(index);
        if column.is_null(row) {
            0
        } else {
            column.as_primitive::<Int64Type>().value(row)
        }
    }

    /// A decimal cell's unscaled value (null as 0).
    pub fn decimal(&self, index: usize, row: usize) -> i128 {
        let column = self.column(index);
        if column.is_null(row) {
            0
        } else {
            column.as_primitive::<Decimal128Type>().value(row)
        }
    }

    /// A timestamp cell, in milliseconds (Delta tables hold microseconds).
    pub fn timestamp_ms(&self, index: usize, row: usize) -> Option<i64> {
        let column = self.column(index);
        if column.is_null(row) {
            return None;
        }
        Some(match column.data_type() {
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                column.as_primitive::<TimestampMicrosecondType>().value(row) / 1000
            }
            _ => column.as_primitive::<TimestampMillisecondType>().value(row),
        })
    }
}
