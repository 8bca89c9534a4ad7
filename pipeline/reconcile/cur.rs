//! The month's Amazon Bedrock line items out of an AWS Data Exports CUR 2.0 export: Parquet
//! files, or gzip CSV files, as Data Exports writes them.
//!
//! A path is one data file or a directory walked for `*.parquet` and `*.csv.gz` (manifests and
//! other files are skipped); a directory holding both formats is refused, since two exports of
//! the same month would count every line twice. Only the columns below are read. A line is
//! Bedrock when its `line_item_product_code` is a Bedrock one or, for AWS Marketplace lines
//! (Anthropic's models), when the `product` map's `product_name` ends with `(Amazon Bedrock
//! Edition)`; it is in the month when its `bill_billing_period_start_date` is. Costs and usage
//! amounts are parsed exactly ([`super::money`]); a cell that is not a number, or a negative
//! cost or amount on a `Usage` line, is an error naming the file and the row.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use arrow::array::{Array, ArrayRef, AsArray, MapArray, StringArray};
use arrow::datatypes::DataType;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::money::parse_picos;
use super::usage_types::EDITION_SUFFIX;

/// `line_item_product_code` of first-party Bedrock lines.
pub const BEDROCK_PRODUCT_CODES: [&str; 3] = [
    "AmazonBedrock",
    "AmazonBedrockService",
    "AmazonBedrockFoundationModels",
];

/// The line item type compared with the ledger; every other type is listed apart.
pub const USAGE: &str = "Usage";

/// The columns read, in this order, and whether a CUR without it cannot be reconciled.
const COLUMNS: [(&str, bool); 10] = [
    ("bill_billing_period_start_date", true),
    ("line_item_usage_account_id", true),
    ("line_item_line_item_type", true),
    ("line_item_product_code", true),
    ("line_item_usage_type", true),
    ("line_item_unblended_cost", true),
    ("line_item_usage_amount", false),
    ("product_region_code", true),
    ("pricing_unit", false),
    ("line_item_line_item_description", false),
];
const PERIOD: usize = 0;
const ACCOUNT: usize = 1;
const LINE_TYPE: usize = 2;
const PRODUCT_CODE: usize = 3;
const USAGE_TYPE: usize = 4;
const COST: usize = 5;
const AMOUNT: usize = 6;
const REGION: usize = 7;
const UNIT: usize = 8;
const DESCRIPTION: usize = 9;

/// The map column of product attributes (`product_name`, `feature`, …).
const PRODUCT: &str = "product";

/// One billed Bedrock line of the month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurLine {
    pub account_id: String,
    pub region: String,
    pub line_item_type: String,
    pub usage_type: String,
    pub product_name: Option<String>,
    pub feature: Option<String>,
    pub description: String,
    pub pricing_unit: String,
    /// `line_item_unblended_cost` in 10⁻¹² USD.
    pub cost: i128,
    /// `line_item_usage_amount` in 10⁻¹² of its pricing unit.
    pub usage_amount: i128,
}

/// What a read found.
#[derive(Debug, Default)]
pub struct CurRead {
    pub lines: Vec<CurLine>,
    pub files: Vec<PathBuf>,
    /// Rows read in all, Bedrock lines of other billing periods, lines of other services.
    pub rows: u64,
    pub other_periods: u64,
    pub other_services: u64,
}

/// Why a CUR export could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CurError {
    #[error("{path}: {message}")]
    Path { path: String, message: String },
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: not a readable Parquet file: {source}")]
    Parquet {
        file: String,
        source: parquet::errors::ParquetError,
    },
    #[error("{file}: not readable as Parquet data: {source}")]
    Arrow {
        file: String,
        source: arrow::error::ArrowError,
    },
    #[error("{file}: not a readable gzip CSV: {source}")]
    Csv { file: String, source: csv::Error },
    #[error("{file}: lacks the CUR 2.0 column `{column}`")]
    MissingColumn { file: String, column: &'static str },
    #[error("{file} {place}: {message}")]
    Row {
        file: String,
        place: String,
        message: String,
    },
}

/// Reads the Bedrock lines of `month` (`YYYY-MM`) under `path`.
pub fn read(path: &Path, month: &str) -> Result<CurRead, CurError> {
    let mut read = CurRead {
        files: data_files(path)?,
        ..CurRead::default()
    };
    for file in read.files.clone() {
        if file.to_string_lossy().ends_with(".parquet") {
            read_parquet(&file, month, &mut read)?;
        } else {
            read_csv_gz(&file, month, &mut read)?;
        }
    }
    Ok(read)
}

/// The data files under `path`, sorted, all of one format.
fn data_files(path: &Path) -> Result<Vec<PathBuf>, CurError> {
    let refuse = |message: &str| CurError::Path {
        path: path.display().to_string(),
        message: message.to_owned(),
    };
    let is_parquet = |p: &Path| p.to_string_lossy().ends_with(".parquet");
    let is_csv = |p: &Path| p.to_string_lossy().ends_with(".csv.gz");
    if path.is_file() {
        if !is_parquet(path) && !is_csv(path) {
            return Err(refuse("not a CUR data file (*.parquet or *.csv.gz)"));
        }
        return Ok(vec![path.to_owned()]);
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
        let entry = entry.map_err(|e| refuse(&e.to_string()))?;
        let file = entry.path();
        if entry.file_type().is_file() && (is_parquet(file) || is_csv(file)) {
            files.push(file.to_owned());
        }
    }
    if files.is_empty() {
        return Err(refuse("no CUR data files (*.parquet or *.csv.gz)"));
    }
    if files.iter().any(|f| is_parquet(f)) && files.iter().any(|f| is_csv(f)) {
        return Err(refuse(
            "holds both Parquet and gzip CSV files: two exports of the same data would count every line twice; point --cur at one",
        ));
    }
    Ok(files)
}

/// The product attributes a line needs.
#[derive(Default)]
struct Product {
    name: Option<String>,
    feature: Option<String>,
}

/// One row's cells, before they are checked.
struct Cells<'a> {
    file: &'a Path,
    place: String,
    text: [Option<String>; COLUMNS.len()],
}

impl Cells<'_> {
    fn row_error(&self, message: String) -> CurError {
        CurError::Row {
            file: self.file.display().to_string(),
            place: self.place.clone(),
            message,
        }
    }

    fn take(&mut self, column: usize) -> String {
        self.text[column].take().unwrap_or_default()
    }

    fn money(&self, column: usize, required: bool) -> Result<i128, CurError> {
        match &self.text[column] {
            Some(text) => parse_picos(text)
                .map_err(|reason| self.row_error(format!("{}: {reason}", COLUMNS[column].0))),
            None if required => Err(self.row_error(format!("no {}", COLUMNS[column].0))),
            None => Ok(0),
        }
    }
}

/// Files the row into `read`: a Bedrock line of the month, or a count of what was passed over.
/// `product` gives the row's product attributes, or why they are unreadable.
fn file_row(
    mut cells: Cells<'_>,
    product: impl FnOnce() -> Result<Product, String>,
    month: &str,
    read: &mut CurRead,
) -> Result<(), CurError> {
    read.rows += 1;
    let code = cells.text[PRODUCT_CODE].as_deref().unwrap_or_default();
    let bedrock_code = BEDROCK_PRODUCT_CODES.contains(&code);
    let product = product().map_err(|message| cells.row_error(message))?;
    let marketplace = product
        .name
        .as_deref()
        .is_some_and(|name| name.ends_with(EDITION_SUFFIX));
    if !bedrock_code && !marketplace {
        read.other_services += 1;
        return Ok(());
    }
    let period = cells.text[PERIOD].as_deref().unwrap_or_default();
    if period.get(..7) != Some(month) {
        if period.is_empty() {
            return Err(cells.row_error("no bill_billing_period_start_date".into()));
        }
        read.other_periods += 1;
        return Ok(());
    }
    let cost = cells.money(COST, true)?;
    let usage_amount = cells.money(AMOUNT, false)?;
    let line_item_type = cells.take(LINE_TYPE);
    if line_item_type == USAGE && (cost < 0 || usage_amount < 0) {
        return Err(cells.row_error(
            "a Usage line with a negative cost or usage amount (credits and refunds are line items of their own)".into(),
        ));
    }
    let account_id = cells.take(ACCOUNT);
    if account_id.is_empty() {
        return Err(cells.row_error("no line_item_usage_account_id".into()));
    }
    read.lines.push(CurLine {
        account_id,
        region: cells.take(REGION),
        line_item_type,
        usage_type: cells.take(USAGE_TYPE),
        product_name: product.name,
        feature: product.feature,
        description: cells.take(DESCRIPTION),
        pricing_unit: cells.take(UNIT),
        cost,
        usage_amount,
    });
    Ok(())
}

fn read_parquet(path: &Path, month: &str, read: &mut CurRead) -> Result<(), CurError> {
    let name = || path.display().to_string();
    let parquet_error = |source| CurError::Parquet {
        file: name(),
        source,
    };
    let file = File::open(path).map_err(|source| CurError::Io {
        file: name(),
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_error)?;
    let schema = builder.schema().clone();
    let mut roots = Vec::new();
    for (column, required) in COLUMNS {
        match schema.index_of(column) {
            Ok(index) => roots.push(index),
            Err(_) if required => {
                return Err(CurError::MissingColumn {
                    file: name(),
                    column,
                });
            }
            Err(_) => {}
        }
    }
    roots.extend(schema.index_of(PRODUCT).ok());
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(parquet_error)?;
    let mut row = 0u64;
    for batch in reader {
        let batch = batch.map_err(|source| CurError::Arrow {
            file: name(),
            source,
        })?;
        let arrow_error = |source| CurError::Arrow {
            file: name(),
            source,
        };
        let mut columns = Vec::with_capacity(COLUMNS.len());
        for (column, _) in COLUMNS {
            columns.push(match batch.schema().index_of(column) {
                Ok(index) => Some(TextColumn::new(batch.column(index)).map_err(arrow_error)?),
                Err(_) => None,
            });
        }
        let product = match batch.schema().index_of(PRODUCT) {
            Ok(index) => Some(ProductColumn::new(batch.column(index)).map_err(arrow_error)?),
            Err(_) => None,
        };
        for index in 0..batch.num_rows() {
            row += 1;
            let cells = Cells {
                file: path,
                place: format!("row {row}"),
                text: std::array::from_fn(|c| columns[c].as_ref().and_then(|col| col.get(index))),
            };
            let product = || Ok(product.as_ref().map(|p| p.get(index)).unwrap_or_default());
            file_row(cells, product, month, read)?;
        }
    }
    Ok(())
}

/// A column read as text: doubles through their shortest round-trip decimal (what AWS wrote,
/// never exponent notation), everything else through Arrow's cast to strings.
enum TextColumn {
    Double(Vec<Option<f64>>),
    Text(StringArray),
}

impl TextColumn {
    fn new(array: &ArrayRef) -> Result<TextColumn, arrow::error::ArrowError> {
        Ok(match array.data_type() {
            DataType::Float64 => TextColumn::Double(
                array
                    .as_primitive::<arrow::datatypes::Float64Type>()
                    .iter()
                    .collect(),
            ),
            DataType::Float32 => TextColumn::Double(
                array
                    .as_primitive::<arrow::datatypes::Float32Type>()
                    .iter()
                    .map(|v| v.map(f64::from))
                    .collect(),
            ),
            _ => TextColumn::Text(
                arrow::compute::cast(array, &DataType::Utf8)?
                    .as_string::<i32>()
                    .clone(),
            ),
        })
    }

    fn get(&self, row: usize) -> Option<String> {
        match self {
            TextColumn::Double(values) => values[row].map(|v| v.to_string()),
            TextColumn::Text(values) => {
                (!values.is_null(row)).then(|| values.value(row).to_owned())
            }
        }
    }
}

/// The `product` map column, its keys and values as strings.
struct ProductColumn {
    map: MapArray,
    keys: StringArray,
    values: StringArray,
}

impl ProductColumn {
    fn new(array: &ArrayRef) -> Result<ProductColumn, arrow::error::ArrowError> {
        let map = array.as_map_opt().cloned().ok_or_else(|| {
            arrow::error::ArrowError::SchemaError(format!(
                "`{PRODUCT}` is {}, not a map",
                array.data_type()
            ))
        })?;
        let strings = |a: &ArrayRef| -> Result<StringArray, arrow::error::ArrowError> {
            Ok(arrow::compute::cast(a, &DataType::Utf8)?
                .as_string::<i32>()
                .clone())
        };
        Ok(ProductColumn {
            keys: strings(map.keys())?,
            values: strings(map.values())?,
            map,
        })
    }

    fn get(&self, row: usize) -> Product {
        if self.map.is_null(row) {
            return Product::default();
        }
        let offsets = self.map.value_offsets();
        let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
        let value = |key: &str| {
            (start..end)
                .find(|&i| self.keys.value(i) == key)
                .filter(|&i| !self.values.is_null(i))
                .map(|i| self.values.value(i).to_owned())
        };
        Product {
            name: value("product_name"),
            feature: value("feature"),
        }
    }
}

fn read_csv_gz(path: &Path, month: &str, read: &mut CurRead) -> Result<(), CurError> {
    let name = || path.display().to_string();
    let csv_error = |source| CurError::Csv {
        file: name(),
        source,
    };
    let file = File::open(path).map_err(|source| CurError::Io {
        file: name(),
        source,
    })?;
    let gzip = flate2::read::MultiGzDecoder::new(BufReader::new(file));
    let mut reader = csv::ReaderBuilder::new().from_reader(gzip);
    let headers = reader.headers().map_err(csv_error)?.clone();
    let mut positions = [None; COLUMNS.len()];
    for (slot, (column, required)) in positions.iter_mut().zip(COLUMNS) {
        *slot = headers.iter().position(|h| h == column);
        if slot.is_none() && required {
            return Err(CurError::MissingColumn {
                file: name(),
                column,
            });
        }
    }
    let product_position = headers.iter().position(|h| h == PRODUCT);
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_error)? {
        let line = record.position().map_or(0, |p| p.line());
        // An empty cell is a null: CSV has no other way to write one.
        let cell = |position: Option<usize>| {
            position
                .and_then(|p| record.get(p))
                .filter(|text| !text.is_empty())
        };
        let cells = Cells {
            file: path,
            place: format!("line {line}"),
            text: std::array::from_fn(|c| cell(positions[c]).map(str::to_owned)),
        };
        // Only a line that may be Bedrock's is worth parsing the JSON of.
        let maybe_bedrock =
            cell(positions[PRODUCT_CODE]).is_some_and(|code| BEDROCK_PRODUCT_CODES.contains(&code));
        let product = || match cell(product_position) {
            Some(text) if maybe_bedrock || text.contains(EDITION_SUFFIX) => product_json(text),
            _ => Ok(Product::default()),
        };
        file_row(cells, product, month, read)?;
    }
    Ok(())
}

/// The `product` map as the CSV writes it: a JSON object of strings.
fn product_json(text: &str) -> Result<Product, String> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| format!("`{PRODUCT}` is not a JSON object: {e}"))?;
    let value = |key: &str| map.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    Ok(Product {
        name: value("product_name"),
        feature: value("feature"),
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use arrow::array::{Float64Array, MapBuilder, StringBuilder, TimestampMillisecondArray};
    use arrow::datatypes::{Field, Schema, TimeUnit};
    use arrow::record_batch::RecordBatch;
    use parquet::arrow::ArrowWriter;

    use super::*;

    const HEADER: &str = "bill_billing_period_start_date,line_item_usage_account_id,line_item_line_item_type,line_item_product_code,line_item_usage_type,line_item_unblended_cost,line_item_usage_amount,product_region_code,pricing_unit,line_item_line_item_description,product";

    fn gzip(path: &Path, text: &str) {
        let mut encoder =
            flate2::write::GzEncoder::new(File::create(path).unwrap(), flate2::Compression::fast());
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap();
    }

    #[test]
    fn reads_the_months_bedrock_lines_of_a_gzip_csv() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cur-00001.csv.gz");
        gzip(
            &path,
            &[
                HEADER,
                // first party, by product code
                "2026-10-01T00:00:00.000Z,111122223333,Usage,AmazonBedrock,USE1-NovaLite-input-tokens,0.0000033,0.055,us-east-1,1K tokens,Nova Lite input,\"{\"\"product_name\"\":\"\"Amazon Bedrock\"\"}\"",
                // Marketplace, by product name; exponent notation and an empty usage amount
                "2026-10-01T00:00:00.000Z,444455556666,Usage,2f7b3xgmryq2nfuzwmkj3kyt2,USE1-MP:USE1_InputTokenCount-Units,1.5E-7,,us-east-1,Units,,\"{\"\"product_name\"\":\"\"Claude Sonnet 4.5 (Amazon Bedrock Edition)\"\",\"\"feature\"\":\"\"x\"\"}\"",
                // a credit may be negative
                "2026-10-01T00:00:00.000Z,111122223333,Credit,AmazonBedrock,,-0.05,0,,,Credits,",
                // another service, another period
                "2026-10-01T00:00:00.000Z,111122223333,Usage,AmazonS3,USE1-TimedStorage-ByteHrs,NaN,1,us-east-1,GB-Mo,,",
                "2026-09-01T00:00:00.000Z,111122223333,Usage,AmazonBedrock,USE1-NovaLite-input-tokens,1,1,us-east-1,1K tokens,,",
            ]
            .join("\n"),
        );
        let read = read(dir.path(), "2026-10").unwrap();
        assert_eq!(
            (read.rows, read.other_services, read.other_periods),
            (5, 1, 1)
        );
        // (account, line item type, usage type, product name, cost, usage amount)
        type Summary<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, i128, i128);
        let summary: Vec<Summary> = read
            .lines
            .iter()
            .map(|l| {
                (
                    l.account_id.as_str(),
                    l.line_item_type.as_str(),
                    l.usage_type.as_str(),
                    l.product_name.as_deref(),
                    l.cost,
                    l.usage_amount,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "111122223333",
                    "Usage",
                    "USE1-NovaLite-input-tokens",
                    Some("Amazon Bedrock"),
                    3_300_000,
                    55_000_000_000
                ),
                (
                    "444455556666",
                    "Usage",
                    "USE1-MP:USE1_InputTokenCount-Units",
                    Some("Claude Sonnet 4.5 (Amazon Bedrock Edition)"),
                    150_000,
                    0
                ),
                ("111122223333", "Credit", "", None, -50_000_000_000, 0),
            ]
        );
        assert_eq!(read.lines[1].feature.as_deref(), Some("x"));
        assert_eq!(read.lines[0].pricing_unit, "1K tokens");
    }

    #[test]
    fn refuses_bad_cells_and_files_naming_where() {
        let dir = tempfile::tempdir().unwrap();
        let cases: &[(&str, &str)] = &[
            (
                "2026-10-01T00:00:00Z,1,Usage,AmazonBedrock,USE1-NovaLite-input-tokens,abc,1,us-east-1,,,",
                "line 2: line_item_unblended_cost: \"abc\" is not a decimal number",
            ),
            (
                "2026-10-01T00:00:00Z,1,Usage,AmazonBedrock,USE1-NovaLite-input-tokens,NaN,1,us-east-1,,,",
                "line 2: line_item_unblended_cost: \"NaN\" is not a decimal number",
            ),
            (
                "2026-10-01T00:00:00Z,1,Usage,AmazonBedrock,USE1-NovaLite-input-tokens,-1,1,us-east-1,,,",
                "line 2: a Usage line with a negative cost",
            ),
            (
                "2026-10-01T00:00:00Z,1,Usage,AmazonBedrock,USE1-NovaLite-input-tokens,,1,us-east-1,,,",
                "line 2: no line_item_unblended_cost",
            ),
            (
                "2026-10-01T00:00:00Z,1,Usage,AmazonBedrock,USE1-NovaLite-input-tokens,1,1,us-east-1,,,{not json",
                "line 2: `product` is not a JSON object",
            ),
            (
                ",1,Usage,AmazonBedrock,USE1-NovaLite-input-tokens,1,1,us-east-1,,,",
                "line 2: no bill_billing_period_start_date",
            ),
        ];
        for (i, (row, message)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("bad-{i}.csv.gz"));
            gzip(&path, &format!("{HEADER}\n{row}\n"));
            let error = read(&path, "2026-10").unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("{} {message}", path.display())),
                "{error}"
            );
        }

        let missing = dir.path().join("missing.csv.gz");
        gzip(&missing, "line_item_usage_type\nx\n");
        assert_eq!(
            read(&missing, "2026-10").unwrap_err().to_string(),
            format!(
                "{}: lacks the CUR 2.0 column `bill_billing_period_start_date`",
                missing.display()
            )
        );
        let garbage = dir.path().join("garbage.parquet");
        std::fs::write(&garbage, b"not parquet at all").unwrap();
        assert!(
            read(&garbage, "2026-10")
                .unwrap_err()
                .to_string()
                .starts_with(&format!(
                    "{}: not a readable Parquet file",
                    garbage.display()
                ))
        );
        let not_gzip = dir.path().join("plain.csv.gz");
        std::fs::write(&not_gzip, format!("{HEADER}\n")).unwrap();
        assert!(
            read(&not_gzip, "2026-10")
                .unwrap_err()
                .to_string()
                .starts_with(&format!("{}: not a readable gzip CSV", not_gzip.display()))
        );
        let manifest = dir.path().join("Manifest.json");
        std::fs::write(&manifest, b"{}").unwrap();
        assert!(
            read(&manifest, "2026-10")
                .unwrap_err()
                .to_string()
                .ends_with("not a CUR data file (*.parquet or *.csv.gz)")
        );
        // The directory now holds both formats.
        assert!(
            read(dir.path(), "2026-10")
                .unwrap_err()
                .to_string()
                .contains("holds both Parquet and gzip CSV files")
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(
            read(empty.path(), "2026-10")
                .unwrap_err()
                .to_string()
                .ends_with("no CUR data files (*.parquet or *.csv.gz)")
        );
    }

    #[test]
    fn reads_parquet_doubles_timestamps_and_the_product_map() {
        let mut product = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        for name in [
            "Claude Haiku 4.5 (Amazon Bedrock Edition)",
            "Amazon Simple Storage Service",
        ] {
            product.keys().append_value("product_name");
            product.values().append_value(name);
            product.keys().append_value("region");
            product.values().append_value("us-east-1");
            product.append(true).unwrap();
        }
        let text = |values: [&str; 2]| Arc::new(StringArray::from(values.to_vec())) as ArrayRef;
        let product = Arc::new(product.finish()) as ArrayRef;
        let columns: Vec<(&str, ArrayRef)> = vec![
            (
                "bill_billing_period_start_date",
                Arc::new(TimestampMillisecondArray::from(vec![1_790_812_800_000; 2])),
            ),
            ("line_item_usage_account_id", text(["111122223333"; 2])),
            ("line_item_line_item_type", text(["Usage"; 2])),
            ("line_item_product_code", text(["abc123", "AmazonS3"])),
            (
                "line_item_usage_type",
                text(["USE1-MP:USE1_OutputTokenCount_Global-Units", "TimedStorage"]),
            ),
            (
                "line_item_unblended_cost",
                Arc::new(Float64Array::from(vec![0.0000001, 0.1 + 0.2])),
            ),
            ("product_region_code", text(["us-east-1"; 2])),
            ("product", product),
        ];
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        assert_eq!(
            schema.field(0).data_type(),
            &DataType::Timestamp(TimeUnit::Millisecond, None)
        );
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            columns.into_iter().map(|c| c.1).collect(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cur-00001.snappy.parquet");
        let mut writer = ArrowWriter::try_new(File::create(&path).unwrap(), schema, None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();

        // 1_790_812_800_000 ms is 2026-10-01T00:00:00Z.
        let read = read(&path, "2026-10").unwrap();
        assert_eq!((read.rows, read.other_services), (2, 1));
        let line = &read.lines[0];
        assert_eq!(
            (
                line.account_id.as_str(),
                line.product_name.as_deref(),
                line.cost,
                line.usage_amount
            ),
            (
                "111122223333",
                Some("Claude Haiku 4.5 (Amazon Bedrock Edition)"),
                100_000,
                0
            )
        );
    }
}
