//! OCSF events (JSON) to Arrow record batches, column by column as the table's schema says.
//! A value of the wrong JSON type is an error naming the column, never a silent null: the events
//! come from vigil's own mappings, so a mismatch is a mapping that drifted from its schema.

use std::sync::Arc;

use arrow_array::builder::{Int32Builder, Int64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{ArrayRef, ListArray, RecordBatch, StructArray};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Schema};
use serde_json::Value;

use crate::ExportError;
use crate::schema::{Column, Type, fields};

/// The events as one record batch of `schema` (built from `columns`).
pub fn record_batch(schema: &Arc<Schema>, columns: &[Column], events: &[Value]) -> Result<RecordBatch, ExportError> {
    let values: Vec<Option<&Value>> = events.iter().map(Some).collect();
    let arrays = columns.iter().map(|column| array(column, &child_values(&values, column.name), column.name)).collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema.clone(), arrays).map_err(|error| ExportError::Schema { column: "(record batch)".into(), reason: error.to_string() })
}

fn child_values<'a>(parents: &[Option<&'a Value>], name: &str) -> Vec<Option<&'a Value>> {
    parents.iter().map(|parent| parent.and_then(|parent| parent.get(name)).filter(|value| !value.is_null())).collect()
}

fn mismatch(path: &str, expected: &str, value: &Value) -> ExportError {
    let mut shown = value.to_string();
    if shown.len() > 80 {
        shown = format!("{}…", shown.chars().take(80).collect::<String>());
    }
    ExportError::Schema { column: path.to_string(), reason: format!("expected {expected}, found `{shown}`") }
}

fn text_of<'a>(value: &'a Value, path: &str) -> Result<std::borrow::Cow<'a, str>, ExportError> {
    match value {
        Value::String(text) => Ok(std::borrow::Cow::Borrowed(text)),
        Value::Number(_) | Value::Bool(_) => Ok(std::borrow::Cow::Owned(value.to_string())),
        _ => Err(mismatch(path, "text", value)),
    }
}

fn array(column: &Column, values: &[Option<&Value>], path: &str) -> Result<ArrayRef, ExportError> {
    Ok(match column.kind {
        Type::Text => {
            let mut builder = StringBuilder::with_capacity(values.len(), values.len() * 16);
            for value in values {
                match value {
                    Some(value) => builder.append_value(text_of(value, path)?),
                    None => builder.append_null(),
                }
            }
            Arc::new(builder.finish())
        }
        Type::Json => {
            let mut builder = StringBuilder::with_capacity(values.len(), values.len() * 64);
            for value in values {
                match value {
                    Some(value) => builder.append_value(value.to_string()),
                    None => builder.append_null(),
                }
            }
            Arc::new(builder.finish())
        }
        Type::Int32 => {
            let mut builder = Int32Builder::with_capacity(values.len());
            for value in values {
                match value {
                    Some(value) => {
                        builder.append_value(value.as_i64().and_then(|int| i32::try_from(int).ok()).ok_or_else(|| mismatch(path, "a 32-bit integer", value))?)
                    }
                    None => builder.append_null(),
                }
            }
            Arc::new(builder.finish())
        }
        Type::Int64 => {
            let mut builder = Int64Builder::with_capacity(values.len());
            for value in values {
                match value {
                    Some(value) => builder.append_value(value.as_i64().ok_or_else(|| mismatch(path, "a 64-bit integer", value))?),
                    None => builder.append_null(),
                }
            }
            Arc::new(builder.finish())
        }
        Type::Timestamp => {
            let mut builder = TimestampMillisecondBuilder::with_capacity(values.len()).with_timezone("UTC");
            for value in values {
                match value {
                    Some(value) => builder.append_value(value.as_i64().ok_or_else(|| mismatch(path, "milliseconds since the epoch", value))?),
                    None => builder.append_null(),
                }
            }
            Arc::new(builder.finish())
        }
        Type::TextList => {
            let item = Column { name: "item", kind: Type::Text, doc: "" };
            list(values, path, &Field::new("item", DataType::Utf8, true), |elements| array(&item, elements, path))?
        }
        Type::Struct(children) => struct_array(children, values, path)?,
        Type::StructList(children) => {
            let field = Field::new("item", DataType::Struct(fields(children)), true);
            list(values, path, &field, |elements| struct_array(children, elements, path))?
        }
    })
}

fn struct_array(children: &[Column], values: &[Option<&Value>], path: &str) -> Result<ArrayRef, ExportError> {
    for value in values.iter().flatten() {
        if !value.is_object() {
            return Err(mismatch(path, "an object", value));
        }
    }
    let arrays =
        children.iter().map(|child| array(child, &child_values(values, child.name), &format!("{path}.{}", child.name))).collect::<Result<Vec<_>, _>>()?;
    let nulls = NullBuffer::from(values.iter().map(Option::is_some).collect::<Vec<bool>>());
    let array = StructArray::try_new(fields(children), arrays, Some(nulls))
        .map_err(|error| ExportError::Schema { column: path.to_string(), reason: error.to_string() })?;
    Ok(Arc::new(array))
}

fn list(
    values: &[Option<&Value>],
    path: &str,
    field: &Field,
    elements_array: impl FnOnce(&[Option<&Value>]) -> Result<ArrayRef, ExportError>,
) -> Result<ArrayRef, ExportError> {
    let mut lengths = Vec::with_capacity(values.len());
    let mut elements: Vec<Option<&Value>> = Vec::new();
    for value in values {
        match value {
            Some(Value::Array(items)) => {
                lengths.push(items.len());
                elements.extend(items.iter().map(|item| (!item.is_null()).then_some(item)));
            }
            Some(other) => return Err(mismatch(path, "a list", other)),
            None => lengths.push(0),
        }
    }
    let child = elements_array(&elements)?;
    let nulls = NullBuffer::from(values.iter().map(Option::is_some).collect::<Vec<bool>>());
    let array = ListArray::try_new(Arc::new(field.clone()), OffsetBuffer::from_lengths(lengths), child, Some(nulls))
        .map_err(|error| ExportError::Schema { column: path.to_string(), reason: error.to_string() })?;
    Ok(Arc::new(array))
}

#[cfg(test)]
mod tests {
    use arrow_array::Array;
    use serde_json::json;

    use super::*;
    use crate::schema::{Column, Type};

    const INNER: &[Column] = &[Column { name: "uid", kind: Type::Text, doc: "" }, Column { name: "n", kind: Type::Int32, doc: "" }];
    const COLUMNS: &[Column] = &[
        Column { name: "time", kind: Type::Timestamp, doc: "" },
        Column { name: "tags", kind: Type::TextList, doc: "" },
        Column { name: "cloud", kind: Type::Struct(INNER), doc: "" },
        Column { name: "resources", kind: Type::StructList(INNER), doc: "" },
        Column { name: "data", kind: Type::Json, doc: "" },
    ];

    fn batch(events: &[Value]) -> Result<RecordBatch, ExportError> {
        let schema = Arc::new(Schema::new(fields(COLUMNS)));
        record_batch(&schema, COLUMNS, events)
    }

    #[test]
    fn nested_objects_lists_and_absent_values_become_typed_columns() {
        let events = [
            json!({"time": 1000, "tags": ["a", "b"], "cloud": {"uid": "x", "n": 7}, "resources": [{"uid": "r1"}, {"uid": "r2", "n": 2}], "data": {"k": [1]}}),
            json!({"unmapped": "ignored"}),
        ];
        let batch = batch(&events).unwrap();
        assert_eq!(batch.num_rows(), 2);
        let resources = batch.column(3).as_any().downcast_ref::<ListArray>().unwrap();
        assert_eq!((resources.value_length(0), resources.is_null(1)), (2, true));
        let data = batch.column(4).as_any().downcast_ref::<arrow_array::StringArray>().unwrap();
        assert_eq!(data.value(0), "{\"k\":[1]}");
        assert!(batch.column(0).is_null(1));
        let time = batch.column(0).as_any().downcast_ref::<arrow_array::TimestampMillisecondArray>().unwrap();
        assert_eq!(time.value(0), 1000);
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_column() {
        let error = batch(&[json!({"cloud": {"n": "seven"}})]).unwrap_err().to_string();
        assert!(error.contains("`cloud.n`") && error.contains("32-bit integer"), "{error}");
        let error = batch(&[json!({"resources": {"uid": "x"}})]).unwrap_err().to_string();
        assert!(error.contains("`resources`") && error.contains("a list"), "{error}");
        let error = batch(&[json!({"time": "yesterday"})]).unwrap_err().to_string();
        assert!(error.contains("`time`"), "{error}");
    }
}
