//! The one parameter validator. Before a route's handler runs, every query parameter of the
//! request is checked against the route's table entry ([`crate::routes::Param`]): an integer
//! parameter must be a decimal integer, a choice one of its words, and every text (declared or not) must hold no NUL byte
//! nor other control character. A bad value is answered 400 naming the parameter, so no
//! handler and no store statement ever sees it (PostgreSQL refuses NUL in text, and SQLite
//! compares text up to its first NUL).

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use crate::error::error;
use crate::routes::{Kind, Route};

/// The longest value quoted back in an error message.
const QUOTED: usize = 40;

/// Checks the request's query parameters against `route`'s, then runs the handler.
pub(crate) async fn check(State(route): State<&'static Route>, request: Request, next: Next) -> Response {
    if request.uri().query().is_some() {
        let pairs = match Query::<Vec<(String, String)>>::try_from_uri(request.uri()) {
            Ok(Query(pairs)) => pairs,
            Err(rejection) => return error(StatusCode::BAD_REQUEST, format!("the query string is not valid: {rejection}")),
        };
        for (name, value) in &pairs {
            let kind = route.params().find(|param| param.name == name).map_or(Kind::Text, |param| param.kind);
            if let Err(message) = value_of_kind(name, value, kind) {
                return error(StatusCode::BAD_REQUEST, message);
            }
        }
    }
    next.run(request).await
}

/// A value checked against its kind (an empty value is an absent one); the error says why not.
fn value_of_kind(name: &str, value: &str, kind: Kind) -> Result<(), String> {
    text(name, value)?;
    if kind == Kind::Integer && !value.is_empty() && value.parse::<i64>().is_err() {
        let quoted: String = value.chars().take(QUOTED).collect();
        return Err(format!("parameter `{name}` must be an integer, not `{quoted}`"));
    }
    if let Kind::OneOf(values) = kind
        && !value.is_empty()
        && !values.contains(&value)
    {
        let quoted: String = value.chars().take(QUOTED).collect();
        let words: Vec<String> = values.iter().map(|word| format!("`{word}`")).collect();
        return Err(format!("parameter `{name}` must be one of {}, not `{quoted}`", words.join(", ")));
    }
    Ok(())
}

/// Text from a client (a query parameter, a field of a body) holds no NUL byte nor other
/// control character but tab, line feed and carriage return; the error says which it holds.
pub(crate) fn text(name: &str, value: &str) -> Result<(), String> {
    if value.chars().any(|character| character.is_control() && !matches!(character, '\t' | '\n' | '\r')) {
        let what = if value.contains('\0') { "a NUL byte" } else { "a control character" };
        return Err(format!("parameter `{name}` holds {what}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_non_integers_are_refused_by_name() {
        assert!(value_of_kind("q", "bucket\tname", Kind::Text).is_ok());
        assert!(value_of_kind("after", "", Kind::Integer).is_ok(), "an empty value is an absent one");
        assert!(value_of_kind("after", "-3", Kind::Integer).is_ok());
        assert!(value_of_kind("by", "host", Kind::OneOf(&["cve", "host"])).is_ok());
        assert!(value_of_kind("by", "", Kind::OneOf(&["cve", "host"])).is_ok(), "an empty value is an absent one");
        assert_eq!(value_of_kind("by", "owner", Kind::OneOf(&["cve", "host"])).unwrap_err(), "parameter `by` must be one of `cve`, `host`, not `owner`");
        for (name, value, kind) in [("q", "a\0b", Kind::Text), ("q", "\u{1b}[31m", Kind::Text), ("after", "12x", Kind::Integer), ("after", "\0", Kind::Integer)]
        {
            let refused = value_of_kind(name, value, kind).unwrap_err();
            assert!(refused.contains(&format!("`{name}`")), "{name}={value:?}: {refused}");
        }
    }
}
