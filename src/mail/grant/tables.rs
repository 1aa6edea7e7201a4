//! Tables of stores: a header row naming a store column and a code column
//! ("Store | Collaborator code"), then one row per store, each store beside
//! its own code.

use super::extraction::MAX_STORES;
use super::labels::{STORE_LABELS, spaced_code};
use super::lines::scan_words;
use crate::mail::code_label;
use crate::mail::text::LINK_MARK;
use crate::model::{CollaboratorCode, StoreDomain};

/// One table row naming a store by its permanent domain.
#[derive(Debug)]
pub(super) struct TableRow {
    /// The row's line, to check the section it sits in.
    pub line: usize,
    pub store: StoreDomain,
    pub code: Option<CollaboratorCode>,
}

/// What the tables of stores in an email said.
#[derive(Debug, Default)]
pub(super) struct Tables {
    pub rows: Vec<TableRow>,
    pub custom_domains: Vec<String>,
    /// Shopify rows with a code whose store cell is a name, no domain.
    pub names_only: Vec<String>,
    /// Lines that were table rows, so the label reader skips them.
    pub consumed: Vec<bool>,
}

/// A table row's cells (` | ` joins them, as
/// [`crate::mail::text::html_to_text`] writes rows and as people type
/// tables).
fn cells(line: &str) -> Vec<&str> {
    line.trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().trim_matches(['*', '_', ':']).trim())
        .collect()
}

/// Reads every table of stores in the lower-cased lines.
pub(super) fn read_tables(lower: &[&str]) -> Tables {
    let mut t = Tables {
        consumed: vec![false; lower.len()],
        ..Tables::default()
    };
    let mut i = 0;
    while i < lower.len() {
        if !lower[i].contains('|') {
            i += 1;
            continue;
        }
        let head = cells(lower[i]);
        let store_cols: Vec<usize> = (0..head.len())
            .filter(|&k| {
                STORE_LABELS.iter().any(|(l, _)| head[k] == *l)
                    || matches!(head[k], "store domain" | "domain" | "url")
            })
            .collect();
        let store_col = match store_cols.as_slice() {
            [] => None,
            [only] => Some(*only),
            several => Some(column_of_stores(lower, i, head.len(), several)),
        };
        // "Collaborator code", a named label in any language, or the bare
        // word, with a qualifier or not; a "Postal code" is not ours.
        let code_col = head.iter().position(|c| {
            code_label::is_code_column(c) || (c.contains("collaborator") && c.contains("code"))
        });
        // A store column under a label in no list ("Boutique", "Tienda"):
        // the one column whose rows hold stores' own domains (any row: the
        // first may give a custom domain), beside a column labelled as the
        // collaborator code.
        let store_col = store_col.or_else(|| {
            let cc = code_col.filter(|&cc| head[cc].contains("collaborator"))?;
            let permanent =
                |c: &str| c.contains(".myshopify.com") || c.contains("admin.shopify.com/store/");
            let mut columns = lower[i + 1..]
                .iter()
                .take_while(|l| l.contains('|'))
                .take(MAX_STORES)
                .map(|l| cells(l))
                .filter(|row| row.len() == head.len())
                .flat_map(|row| {
                    (0..row.len())
                        .filter(|&k| k != cc && permanent(row[k]))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<usize>>();
            columns.sort_unstable();
            columns.dedup();
            match columns.as_slice() {
                [k] => Some(*k),
                _ => None,
            }
        });
        let (Some(sc), Some(cc)) = (store_col, code_col) else {
            i += 1;
            continue;
        };
        if sc == cc {
            i += 1;
            continue;
        }
        t.consumed[i] = true;
        let mut j = i + 1;
        while j < lower.len() && lower[j].contains('|') {
            let row = cells(lower[j]);
            if row.len() != head.len() {
                // A row spanning columns ("Failed – no code") inside the
                // table: not a store row, but the table goes on when the
                // next row has the header's shape.
                let goes_on = lower
                    .get(j + 1)
                    .is_some_and(|n| n.contains('|') && cells(n).len() == head.len());
                if row.len() < head.len() && goes_on {
                    t.consumed[j] = true;
                    j += 1;
                    continue;
                }
                break;
            }
            t.consumed[j] = true;
            let store_cell = row[sc];
            let code = CollaboratorCode::parse(row[cc]).or_else(|| spaced_code(row[cc]));
            // Another platform's row is never ours, whatever its cells hold.
            if scan_words(lower[j]).other_head {
                j += 1;
                continue;
            }
            // The cell must be the store's own domain (or link to it): a
            // store named inside another site's URL is not a store.
            let store = match store_cell.find(LINK_MARK) {
                Some(at) => {
                    StoreDomain::parse(store_cell[at + LINK_MARK.len()..].trim_end_matches(')'))
                }
                None if store_cell.contains(".myshopify.com")
                    || store_cell.contains("admin.shopify.com/store/") =>
                {
                    StoreDomain::parse(store_cell)
                }
                None => None,
            };
            match store {
                Some(store) => t.rows.push(TableRow {
                    line: j,
                    store,
                    code,
                }),
                // Another platform's row (an ad account, a Business Manager)
                // or a custom domain: never paired with a neighbour's code.
                // A Shopify row with a code but no permanent domain must not
                // vanish: it is reported beside the rows that were read.
                None if code.is_some() => {
                    if let Some(domain) = domain_in(store_cell) {
                        t.custom_domains.push(domain.to_owned());
                    } else if scan_words(lower[j]).shopify_head && !store_cell.is_empty() {
                        t.names_only.push(store_cell.to_owned());
                    }
                }
                None => {}
            }
            j += 1;
        }
        i = j;
    }
    t
}

/// Which of several store columns ("Store" beside "Store URL") holds the
/// stores' domains: the one whose rows name the most permanent domains,
/// then the most domain-shaped values, else the first.
fn column_of_stores(lower: &[&str], head_at: usize, width: usize, candidates: &[usize]) -> usize {
    let rows: Vec<Vec<&str>> = lower[head_at + 1..]
        .iter()
        .take_while(|l| l.contains('|'))
        .take(MAX_STORES)
        .map(|l| cells(l))
        .filter(|r| r.len() == width)
        .collect();
    let score = |k: usize| {
        let permanent = rows
            .iter()
            .filter(|r| {
                r[k].contains(".myshopify.com")
                    || r[k].contains("admin.shopify.com/store/")
                    || r[k].contains(LINK_MARK)
            })
            .count();
        let domain_shaped = rows
            .iter()
            .filter(|r| r[k].contains('.') && !r[k].contains(' '))
            .count();
        (permanent, domain_shaped)
    };
    candidates
        .iter()
        .copied()
        .rev()
        .max_by_key(|&k| score(k))
        .unwrap_or(candidates[0])
}

/// The domain a table cell names, if any: `harborgoods.com`,
/// `https://www.harborgoods.com/`, `Harbor Home (harborgoods.com)`; never
/// an address.
fn domain_in(cell: &str) -> Option<&str> {
    cell.split(|c: char| c.is_whitespace() || "()[]<>,;\"'".contains(c))
        .filter(|t| !t.contains('@'))
        .map(|t| {
            let t = t.split_once("://").map_or(t, |(_, rest)| rest);
            t.split('/').next().unwrap_or("").trim_end_matches('.')
        })
        .find(|host| {
            let tld = host.rsplit_once('.').map_or("", |(_, tld)| tld);
            host.contains('.')
                && tld.len() >= 2
                && tld.bytes().all(|b| b.is_ascii_alphabetic())
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_keeps_its_store_beside_its_own_code() {
        let lines = [
            "your stores",
            "store | store url | collaborator code",
            "acme | acme-co.myshopify.com | 0105",
            "| failed – no code |",
            "harbor | harborgoods.com | 2211",
            "bistro | bistro.myshopify.com | pending",
            "thanks",
        ];
        let t = read_tables(&lines);
        let rows: Vec<(usize, &str, Option<&str>)> = t
            .rows
            .iter()
            .map(|r| {
                (
                    r.line,
                    r.store.as_str(),
                    r.code.as_ref().map(|c| c.expose()),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (2, "acme-co.myshopify.com", Some("0105")),
                (5, "bistro.myshopify.com", None)
            ]
        );
        assert_eq!(t.custom_domains, ["harborgoods.com"]);
        assert!(t.names_only.is_empty());
        // A row spanning the columns stays inside the table; prose ends it.
        assert_eq!(t.consumed, [false, true, true, true, true, true, false]);
        assert_eq!(cells("| **Store** | Code: |"), ["Store", "Code"]);
    }
}
