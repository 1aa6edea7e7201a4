//! The model's types as SQLite values: text enums and actors as the text
//! the schema stores, request ids as integers. Decoding is where an unknown
//! value becomes an error ([`super::db::Error::Decode`]) instead of a panic
//! further on.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{Sqlite, SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Type};

use crate::model::{Actor, EventKind, MessageKind, RequestId, RequestState, WatcherState};

/// UTC ISO-8601 text, as every timestamp column holds.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Reads a text column with the type's `FromStr`, naming the type on failure.
fn parse<T: std::str::FromStr<Err = String>>(
    value: SqliteValueRef<'_>,
    name: &str,
) -> Result<T, BoxDynError> {
    let text = <&str as Decode<Sqlite>>::decode(value)?;
    text.parse::<T>()
        .map_err(|e| format!("not a {name}: {e}").into())
}

/// A `text_enum!` type is stored as its `as_str()` text.
macro_rules! text_enum_column {
    ($($t:ident),+) => {$(
        impl Type<Sqlite> for $t {
            fn type_info() -> SqliteTypeInfo {
                <str as Type<Sqlite>>::type_info()
            }
        }

        impl<'q> Encode<'q, Sqlite> for $t {
            fn encode_by_ref(
                &self,
                args: &mut Vec<SqliteArgumentValue<'q>>,
            ) -> Result<IsNull, BoxDynError> {
                args.push(SqliteArgumentValue::Text(Cow::Borrowed(self.as_str())));
                Ok(IsNull::No)
            }
        }

        impl<'r> Decode<'r, Sqlite> for $t {
            fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
                parse(value, stringify!($t))
            }
        }
    )+};
}

text_enum_column!(MessageKind, RequestState, EventKind, WatcherState);

/// An actor is stored as `leadsie`, `worker`, … or `operator:<name>`.
impl Type<Sqlite> for Actor {
    fn type_info() -> SqliteTypeInfo {
        <str as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for Actor {
    fn encode_by_ref(
        &self,
        args: &mut Vec<SqliteArgumentValue<'q>>,
    ) -> Result<IsNull, BoxDynError> {
        args.push(SqliteArgumentValue::Text(Cow::Owned(self.to_string())));
        Ok(IsNull::No)
    }
}

impl<'r> Decode<'r, Sqlite> for Actor {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        parse(value, "actor")
    }
}

/// A request id is its row's integer id.
impl Type<Sqlite> for RequestId {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for RequestId {
    fn encode_by_ref(
        &self,
        args: &mut Vec<SqliteArgumentValue<'q>>,
    ) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<Sqlite>>::encode_by_ref(&self.0, args)
    }
}

impl<'r> Decode<'r, Sqlite> for RequestId {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        <i64 as Decode<Sqlite>>::decode(value).map(RequestId)
    }
}
