//! `request_metadata_value(request_metadata, key)`: the string value of one key of the
//! `request_metadata` column (a JSON object of strings, as ingest writes it), or NULL.
//!
//! Attribution by `metadata:KEY=GLOB` rules reads single keys of the metadata; DataFusion has no
//! JSON functions without another crate (datafusion-functions-json follows DataFusion's
//! releases with a lag), and one lookup in an object of strings is a few lines of serde_json.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The function's name in SQL.
pub const NAME: &str = "request_metadata_value";

/// The UDF, to register in a session.
pub fn request_metadata_value() -> ScalarUDF {
    ScalarUDF::new_from_impl(RequestMetadataValue {
        signature: Signature::string(2, Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RequestMetadataValue {
    signature: Signature,
}

impl ScalarUDFImpl for RequestMetadataValue {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [metadata, keys] = arrays.as_slice() else {
            return exec_err!("{NAME} takes (request_metadata, key)");
        };
        let (metadata, keys) = (as_strings(metadata)?, as_strings(keys)?);
        let (metadata, keys) = (
            metadata.as_any().downcast_ref::<StringArray>(),
            keys.as_any().downcast_ref::<StringArray>(),
        );
        let (Some(metadata), Some(keys)) = (metadata, keys) else {
            return exec_err!("{NAME}: arguments are not strings");
        };
        let values: StringArray = metadata
            .iter()
            .zip(keys.iter())
            .map(|(json, key)| {
                json.zip(key)
                    .and_then(|(json, key)| value_of(json, key))
                    .transpose()
            })
            .collect::<Result<_>>()?;
        Ok(ColumnarValue::Array(Arc::new(values)))
    }
}

fn as_strings(array: &ArrayRef) -> Result<ArrayRef> {
    Ok(cast(array, &DataType::Utf8)?)
}

/// The value of `key` in one `request_metadata` object. Ingest writes only objects of strings
/// (or null); anything else in the column is an error, not a silent NULL.
fn value_of(json: &str, key: &str) -> Option<Result<String>> {
    match serde_json::from_str::<BTreeMap<String, Option<String>>>(json) {
        Ok(mut object) => object.remove(key).flatten().map(Ok),
        Err(e) => Some(exec_err!(
            "request_metadata {json:?} is not an object of strings: {e}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_one_key() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                r#"{"team":"x","user_id":"erin@example.com"}"#,
                "user_id",
                Some("erin@example.com"),
            ),
            (r#"{"team":"x"}"#, "user_id", None),
            (r#"{"user_id":null}"#, "user_id", None),
            (r#"{"user_id":"a\"b"}"#, "user_id", Some("a\"b")),
            ("{}", "user_id", None),
        ];
        for (json, key, expected) in cases {
            let got = value_of(json, key).transpose().unwrap();
            assert_eq!(got.as_deref(), *expected, "{json}");
        }
        assert!(value_of("[1]", "user_id").unwrap().is_err());
    }
}
