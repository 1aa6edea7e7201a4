//! [`extract`]: one email's lines walked through the scanner's line rules,
//! then the finishing rules in their order.

use super::extraction::Extraction;
use super::labels::{COLLABORATOR, SHOPIFY};
use super::scanner::{Flow, Scanner};
use crate::mail::code_label;
use crate::mail::text::contains_ic;

/// Extracts grants from a Leadsie email's subject and body text.
pub fn extract(subject: &str, text: &str) -> Extraction {
    let text = code_label::canonical(text);
    let lower = text.to_ascii_lowercase();
    let mentions_shopify =
        SHOPIFY.find(lower.as_bytes()).is_some() || contains_ic(subject, "shopify");
    if !mentions_shopify && COLLABORATOR.find(lower.as_bytes()).is_none() {
        return Extraction::default();
    }
    let mut scan = Scanner::new(subject, &text, &lower, mentions_shopify);
    for i in 0..scan.line_count() {
        if !scan.reads(i) {
            continue;
        }
        scan.store_mention(i);
        // The first rule that reads the line wins.
        let flow = scan
            .collaborator_line(i)
            .or_else(|| scan.bare_code_beside_store(i))
            .or_else(|| scan.labelled_store(i));
        if flow == Some(Flow::Stop) {
            break;
        }
    }
    scan.pair_up();
    scan.table_rows();
    scan.grant_pairs();
    scan.fallback_mention();
    scan.one_code_per_store();
    if scan.found_grants() {
        scan.problems();
        scan.attach_client();
    } else {
        scan.explain_failure();
    }
    scan.into_extraction()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_is_written_in_lower_case_a_name_is_not() {
        // The value as written is read at the same place as the label found
        // it in the lower-cased line, bullets in front or on the next line.
        let stores = |text: &str| -> Vec<String> {
            let ex = extract("", text);
            ex.grants
                .iter()
                .map(|g| g.store.as_str().to_owned())
                .collect()
        };
        let code = "Collaborator code: 0105\n";
        assert_eq!(
            stores(&format!("**** Shopify store: acme\n{code}")),
            ["acme.myshopify.com"]
        );
        assert!(stores(&format!("**** shopify store: Acme\n{code}")).is_empty());
        assert_eq!(
            stores(&format!("Shopify\n* Store:\n  acme-co\n{code}")),
            ["acme-co.myshopify.com"]
        );
        assert!(stores(&format!("Shopify\n* Store:\n  Acme-Co\n{code}")).is_empty());
    }

    #[test]
    fn localised_code_labels_read_as_the_english_one() {
        for (line, code) in [
            ("Mitarbeitercode: 0105", "0105"),
            ("Code für Mitarbeiteranfragen: 0473", "0473"),
            ("Code de demande de collaborateur : 2211", "2211"),
            ("Código de colaborador: 9001", "9001"),
            ("Codice collaboratore: 0042", "0042"),
            ("Código de solicitação de colaborador: 7310", "7310"),
            ("Medewerkerscode: 5555", "5555"),
        ] {
            let text = format!("Shopify\nShop: https://Acme-Co.MyShopify.com\n{line}\n");
            let ex = extract("", &text);
            assert_eq!(ex.grants.len(), 1, "{line}: {ex:?}");
            assert_eq!(ex.grants[0].code.expose(), code, "{line}");
            assert_eq!(ex.grants[0].store.as_str(), "acme-co.myshopify.com");
        }
        // A table whose store column has a label in no list.
        let ex = extract(
            "",
            "Shopify\nBoutique | Code de demande de collaborateur\nbistro-lumiere.myshopify.com | 2211\n",
        );
        assert_eq!(ex.grants.len(), 1, "{ex:?}");
        assert_eq!(ex.grants[0].code.expose(), "2211");
        // A number beside an unrelated word is still not a code.
        let ex = extract(
            "",
            "Shopify\nShop: acme-co.myshopify.com\nMitarbeiter: 12\nPLZ 1234\n",
        );
        assert!(ex.grants.is_empty(), "{ex:?}");
        assert!(matches!(
            code_label::canonical("no label here"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
