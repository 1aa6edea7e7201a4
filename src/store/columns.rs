//! The model's types as SQLite and PostgreSQL values, alike on both: text enums, actors, timestamps,
//! store domains and codes as the text the schema stores, request ids as
//! integers. Decoding is where an unknown or malformed value becomes an
//! error ([`super::db::Error::Decode`], naming the column) instead of a
//! panic further on.

use std::borrow::Cow;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

use crate::model::{
    Actor, CollaboratorCode, EventKind, MessageKind, RequestId, RequestState, SessionState,
    StoreDomain, Wait, WatcherState,
};
use crate::timestamp::Timestamp;

/// Reads a text column with the type's `FromStr`, naming the type on failure.
fn parse<T: std::str::FromStr<Err = String>>(text: &str, name: &str) -> Result<T, BoxDynError> {
    text.parse::<T>()
        .map_err(|e| format!("not a {name}: {e}").into())
}

/// `$t` has the column type of `$inner` on every engine that has one.
macro_rules! stored_as {
    ($t:ty, $inner:ty) => {
        impl<DB: Database> Type<DB> for $t
        where
            $inner: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <$inner as Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <$inner as Type<DB>>::compatible(ty)
            }
        }
    };
}

/// A type stored as text: `|value| text` writes it, `|text| value` reads
/// it back (or says why it cannot), alike on every engine that stores
/// text.
macro_rules! text_column {
    ($t:ty, |$v:ident| $encode:expr, |$text:ident| $decode:expr) => {
        stored_as!($t, str);

        impl<'q, DB: Database> Encode<'q, DB> for $t
        where
            String: Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as Database>::ArgumentBuffer<'q>,
            ) -> Result<IsNull, BoxDynError> {
                let $v = self;
                let text: Cow<'_, str> = $encode;
                <String as Encode<'q, DB>>::encode(text.into_owned(), buf)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $t
        where
            &'r str: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let $text = <&str as Decode<DB>>::decode(value)?;
                $decode
            }
        }
    };
}

/// A `text_enum!` type is stored as its `as_str()` text.
macro_rules! text_enum_column {
    ($($t:ident),+) => {$(
        text_column!($t, |v| Cow::Borrowed(v.as_str()), |text| parse(text, stringify!($t)));
    )+};
}

text_enum_column!(
    MessageKind,
    RequestState,
    EventKind,
    WatcherState,
    SessionState,
    Wait
);

// An actor is stored as `leadsie`, `worker`, … or `operator:<name>`.
text_column!(Actor, |a| Cow::Owned(a.to_string()), |text| parse(
    text, "actor"
));

// A timestamp is stored as `2026-11-26T08:44:52Z`, the one form it reads.
text_column!(Timestamp, |t| Cow::Owned(t.to_string()), |text| parse(
    text,
    "timestamp"
));

// A store is stored as its permanent domain, already normalised: read
// back, it must be one as it stands (`acme.myshopify.com`), not merely
// something [`StoreDomain::parse`] could make one of.
text_column!(StoreDomain, |d| Cow::Owned(d.as_str().to_owned()), |text| {
    text.strip_suffix(".myshopify.com")
        .and_then(StoreDomain::from_handle)
        .ok_or_else(|| format!("not a store domain: `{text}` is not <handle>.myshopify.com").into())
});

// A code is stored as its four digits. A column that holds anything else
// is named in the error, but its text is not: it may be most of a code.
text_column!(
    CollaboratorCode,
    |c| Cow::Owned(c.expose().to_owned()),
    |text| CollaboratorCode::parse(text)
        .filter(|c| c.expose() == text)
        .ok_or_else(|| "not a collaborator code (four digits)".into())
);

// A request id is its row's integer id.
stored_as!(RequestId, i64);

impl<'q, DB: Database> Encode<'q, DB> for RequestId
where
    i64: Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, DB>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r, DB: Database> Decode<'r, DB> for RequestId
where
    i64: Decode<'r, DB>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        <i64 as Decode<'r, DB>>::decode(value).map(RequestId)
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, SqliteConnection};

    use super::*;
    use crate::store::db::{Db, Error};
    use crate::store::requests::get_request;

    #[tokio::test]
    async fn a_timestamp_round_trips_as_its_text() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let t: Timestamp = "2026-11-26T08:44:52Z".parse().unwrap();
        let (back, text): (Timestamp, String) = sqlx::query_as("select $1, $1")
            .bind(t)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(back, t);
        assert_eq!(text, "2026-11-26T08:44:52Z");
        let (none,): (Option<Timestamp>,) = sqlx::query_as("select null")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(none, None);
    }

    #[tokio::test]
    async fn a_bad_stored_value_is_an_error_naming_its_column() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("bad.db")).await.unwrap();
        let mut conn = db.pool.sqlite().unwrap().acquire().await.unwrap();
        let t = "2026-11-01T00:00:00Z";
        sqlx::query(
            "insert into access_requests (id, store_domain, collaborator_code, state, received_at, created_at, updated_at)
             values (1, 'acme.myshopify.com', '0105', 'queued', $1, $1, 'yesterday'),
                    (2, 'Acme Store', '0106', 'queued', $1, $1, $1),
                    (3, 'acme.myshopify.com', '0107', 'queued', '2026-11-01 00:00:00', $1, $1)",
        )
        .bind(t)
        .execute(&mut *conn)
        .await
        .unwrap();
        for (id, column, says) in [
            (1, "updated_at", "not a timestamp: `yesterday`"),
            (2, "store_domain", "not a store domain: `Acme Store`"),
            (3, "received_at", "not a timestamp: `2026-11-01 00:00:00`"),
        ] {
            let err = get_request(&mut conn, crate::model::RequestId(id))
                .await
                .unwrap_err();
            let Error::Decode { column: got, .. } = &err else {
                panic!("request {id}: {err:?}");
            };
            assert_eq!(got.trim_matches('"'), column, "request {id}");
            let text = err.to_string();
            assert!(text.contains(says), "request {id}: {text}");
        }
    }

    #[tokio::test]
    async fn a_bad_code_is_an_error_that_does_not_repeat_it() {
        // The schema's CHECK keeps codes to four digits; decoding checks
        // again, and says so without quoting what it read.
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let err = sqlx::query_as::<_, (CollaboratorCode,)>("select '01056'")
            .fetch_one(&mut conn)
            .await
            .map_err(Error::from)
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
        assert!(text.contains("not a collaborator code"), "{text}");
        assert!(!text.contains("0105"), "the code leaked: {text}");
        let (code,): (CollaboratorCode,) = sqlx::query_as("select '0105'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(code.expose(), "0105");
    }
}
