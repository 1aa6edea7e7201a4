//! Shopify's replies read by meaning: each rule of `outcome.rs` shown on
//! the mail it is for, and on the mail it must not take.

use super::*;

fn rules() -> OutcomeRules {
    OutcomeRules::new(&[]).unwrap()
}

#[test]
fn subjects_by_meaning() {
    let r = rules();
    let o = r
        .detect(
            "Your collaborator request for acme.myshopify.com was approved",
            "",
        )
        .unwrap();
    assert_eq!(o.result, OutcomeResult::Granted);
    assert_eq!(o.store.unwrap().as_str(), "acme.myshopify.com");
    let o = r
        .detect(
            "Collaborator request declined",
            "Acme Boutique declined your request to access their store.",
        )
        .unwrap();
    assert_eq!(o.result, OutcomeResult::Declined);
    assert_eq!(o.store_name.as_deref(), Some("Acme Boutique"));
    let o = r
        .detect("Your collaborator access to Acme Boutique was removed", "")
        .unwrap();
    assert_eq!(o.result, OutcomeResult::Revoked);
    assert_eq!(o.store_name.as_deref(), Some("Acme Boutique"));
    assert!(
        r.detect("Your app was approved", "Congratulations")
            .is_none()
    );
}

fn read(subject: &str, body: &str) -> Reading {
    rules().read(subject, body, None)
}

#[test]
fn replies_worded_many_ways() {
    use OutcomeResult::*;
    let cases: &[(&str, &str, OutcomeResult, &str)] = &[
        (
            "Request accepted",
            "Hi Jordan,\n\nNorthwind Outfitters has accepted your collaborator request.\nYou can now log in to northwind-outfitters.myshopify.com.",
            Granted,
            "northwind-outfitters.myshopify.com",
        ),
        (
            "Access granted",
            "Cobalt Cycles granted you collaborator access to cobalt-cycles.myshopify.com.",
            Granted,
            "cobalt-cycles.myshopify.com",
        ),
        (
            "Welcome to Quarry Home",
            "You\u{2019}ve been added as a collaborator to Quarry Home (quarry-home.myshopify.com).",
            Granted,
            "quarry-home.myshopify.com",
        ),
        (
            "Your collaborator request",
            "Good news! The owner of\nfern-and-fig.myshopify.com approved your request for collaborator access. You can\nnow log in from your Partner Dashboard.",
            Granted,
            "fern-and-fig.myshopify.com",
        ),
        (
            "Request declined: Fable & Fern",
            "Fable & Fern (fable-fern.myshopify.com) has declined your collaborator request.",
            Declined,
            "fable-fern.myshopify.com",
        ),
        (
            "Update on your collaborator request",
            "The owner of rowan-tea.myshopify.com didn\u{2019}t accept your request.",
            Declined,
            "rowan-tea.myshopify.com",
        ),
        (
            "Collaborator request not approved",
            "Your request to access Oak Row wasn't approved by the store owner.",
            Declined,
            "Oak Row",
        ),
        (
            "Collaborator access removed",
            "Summit Gear removed you as a collaborator. You no longer have access to admin.shopify.com/store/summit-gear.",
            Revoked,
            "summit-gear.myshopify.com",
        ),
        (
            "Your collaborator access was revoked",
            "Birch Lane Goods revoked your collaborator access.",
            Revoked,
            "Birch Lane Goods",
        ),
    ];
    for (subject, body, result, store) in cases {
        let Reading::Answer(o) = read(subject, body) else {
            panic!(
                "no answer in {subject:?} / {body:?}: {:?}",
                read(subject, body)
            );
        };
        assert_eq!(o.result, *result, "{subject:?}");
        let got = o
            .store
            .as_ref()
            .map(|d| d.as_str().to_owned())
            .or(o.store_name.clone());
        assert_eq!(got.as_deref(), Some(*store), "{subject:?}");
    }
}

#[test]
fn newsletters_and_product_news_are_not_answers() {
    let cases: &[(&str, &str)] = &[
        // A reply-shaped sentence, but a newsletter's footer.
        (
            "Partner news",
            "Maple & Moss accepted your collaborator request.\n\nUnsubscribe | Privacy",
        ),
        (
            "What's new for Shopify Partners",
            "Your collaborator request for alder.myshopify.com has been accepted \u{2014} the new email you'll get.",
        ),
        (
            "Collaborator requests, reimagined",
            "Introducing one-click review. Acme Co approved your collaborator request in seconds. Learn more.",
        ),
        (
            "Collaborator requests",
            "Here is what you'll see: your-store.myshopify.com accepted your collaborator request.",
        ),
        (
            "Join our webinar",
            "Acme Co approved your collaborator request? Join our webinar on store access.",
        ),
        (
            "Your store access this week",
            "quill.myshopify.com accepted your request.\nbirch.myshopify.com accepted your request.",
        ),
        (
            "Collaborator request accepted",
            "Sample Store accepted your collaborator request.",
        ),
    ];
    for (subject, body) in cases {
        assert!(
            !matches!(read(subject, body), Reading::Answer(_)),
            "{subject:?} / {body:?}: {:?}",
            read(subject, body)
        );
    }
    assert!(matches!(
        rules().read(
            "Collaborator request accepted",
            "Your collaborator request for fern.myshopify.com has been accepted.",
            Some("Precedence: bulk")
        ),
        Reading::Refused(_)
    ));
}

#[test]
fn conditions_examples_and_pending_requests_are_not_answers() {
    let cases: &[(&str, &str)] = &[
        (
            "Working with collaborators",
            "Once a merchant has accepted your collaborator request, the store appears in your dashboard.",
        ),
        (
            "Collaborator accounts",
            "If the owner declined your request, you can send another.",
        ),
        (
            "Collaborator accounts",
            "For example, Acme Co approved your collaborator request within an hour.",
        ),
        (
            "Your collaborator request was sent",
            "Your request to access rowan-tea.myshopify.com hasn't been approved yet.",
        ),
        (
            "Your collaborator request is pending",
            "Your collaborator request for rowan-tea.myshopify.com is still waiting to be approved.",
        ),
        (
            "Was your collaborator request declined?",
            "Here is what to do next.",
        ),
        (
            "Collaborator requests",
            "\u{201c}Acme Co approved your collaborator request\u{201d} is the email a merchant's approval sends.",
        ),
        (
            "Collaborator requests now expire",
            "Collaborator requests are accepted or declined by the store owner.",
        ),
        (
            "Your collaborator request",
            "Your request to access acme.myshopify.com will be approved by the owner.",
        ),
    ];
    for (subject, body) in cases {
        assert!(
            rules().detect(subject, body).is_none(),
            "{subject:?} / {body:?}: {:?}",
            read(subject, body)
        );
    }
}

#[test]
fn a_mailing_list_footer_is_not_the_senders_marketing() {
    let body = "Acme Co approved your collaborator request.\n\n-- \nYou received this message because you are subscribed to the Google Groups \"ops\" group.\nTo unsubscribe from this group, send an email to ops+unsubscribe@agency.example.";
    let o = rules()
        .detect("Collaborator request approved", body)
        .unwrap();
    assert_eq!(o.result, OutcomeResult::Granted);
    assert_eq!(o.store_name.as_deref(), Some("Acme Co"));
}

#[test]
fn operator_patterns_win() {
    let r = OutcomeRules::new(&[(
        OutcomeResult::Granted,
        r"welcome aboard at (?P<store>\w+)".into(),
    )])
    .unwrap();
    let o = r
        .detect("Collaborator update", "Welcome aboard at Zeta")
        .unwrap();
    assert_eq!(o.result, OutcomeResult::Granted);
    assert_eq!(o.store_name.as_deref(), Some("Zeta"));
}
