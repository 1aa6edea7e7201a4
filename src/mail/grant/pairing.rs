//! Pairs the stores and codes the line rules found, in the order the email
//! names them, so that each store gets its own code and no other's.

use crate::model::{CollaboratorCode, StoreDomain};

/// What a line rule found, in the email's order.
#[derive(Debug)]
pub(super) enum Event {
    Store(StoreDomain),
    Code(CollaboratorCode),
    /// A code label whose value is not a code ("not provided", "—"): the
    /// store before it has no code, and no later code may be taken for it.
    NoCode,
}

/// A store and the code it was given, if any.
pub(super) type Pair = (StoreDomain, Option<CollaboratorCode>);

/// Pairs each store with its own code. The first event fixes the layout:
/// store-then-code (most templates) or code-then-store.
pub(super) fn pair(events: Vec<Event>) -> Vec<Pair> {
    let code_first = matches!(events.first(), Some(Event::Code(_)));
    let mut out = Vec::new();
    let mut pending_store: Option<StoreDomain> = None;
    let mut pending_code: Option<CollaboratorCode> = None;
    for ev in events {
        match (ev, code_first) {
            (Event::NoCode, _) => {
                if !code_first && let Some(s) = pending_store.take() {
                    out.push((s, None));
                }
                pending_code = None;
            }
            (Event::Store(s), false) => {
                if let Some(prev) = pending_store.replace(s) {
                    // Two labels for one store ("Store" then "Store URL") name
                    // it twice; a different store means the first had no code.
                    if pending_store.as_ref() != Some(&prev) {
                        out.push((prev, None));
                    }
                }
            }
            (Event::Code(c), false) => {
                if let Some(s) = pending_store.take() {
                    out.push((s, Some(c)));
                }
            }
            (Event::Code(c), true) => pending_code = Some(c),
            (Event::Store(s), true) => match pending_code.take() {
                Some(c) => out.push((s, Some(c))),
                None => {
                    if out.last().map(|(last, _)| last) != Some(&s) {
                        out.push((s, None));
                    }
                }
            },
        }
    }
    if let Some(s) = pending_store {
        out.push((s, None));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(h: &str) -> Event {
        Event::Store(StoreDomain::from_handle(h).unwrap())
    }

    fn code(c: &str) -> Event {
        Event::Code(CollaboratorCode::parse(c).unwrap())
    }

    fn shown(pairs: Vec<Pair>) -> Vec<(String, Option<String>)> {
        pairs
            .into_iter()
            .map(|(s, c)| (s.handle().to_owned(), c.map(|c| c.expose().to_owned())))
            .collect()
    }

    fn pairs(expected: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        expected
            .iter()
            .map(|(s, c)| (s.to_string(), c.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn the_first_event_fixes_the_layout() {
        let store_first = pair(vec![
            store("a"),
            code("1111"),
            store("b"),
            store("b"),
            code("2222"),
            store("c"),
            Event::NoCode,
            code("3333"),
            store("d"),
        ]);
        assert_eq!(
            shown(store_first),
            pairs(&[
                ("a", Some("1111")),
                ("b", Some("2222")),
                ("c", None),
                ("d", None)
            ])
        );
        let code_first = pair(vec![
            code("1111"),
            store("a"),
            store("a"),
            code("2222"),
            Event::NoCode,
            store("b"),
        ]);
        assert_eq!(
            shown(code_first),
            pairs(&[("a", Some("1111")), ("b", None)])
        );
    }
}
