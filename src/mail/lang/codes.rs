//! The labels a person reads as "the collaborator code", per language.

/// The labels a person reads as "the collaborator code" in one language,
/// lower case. A qualifier between label and value ("(4 digits)", "(4
/// Ziffern)") is recognised by its shape in `code_label.rs`, not listed.
pub struct CodeLabels {
    /// Names the row for a reader.
    pub language: &'static str,
    /// Labels that say which code they are (Shopify's "collaborator request
    /// code", Leadsie's "collaborator code", "request code", "access code"):
    /// read wherever a label may stand, and written as the English
    /// "Collaborator code" before a Leadsie email is read, so every rule
    /// about that label holds for them.
    pub named: &'static [&'static str],
    /// The bare word "code": a label only at the start of a line or a table
    /// column inside a Shopify store's section or card, never elsewhere
    /// ("promo code", "code 1234" in a sentence).
    pub bare: &'static [&'static str],
}

const fn code_labels(
    language: &'static str,
    named: &'static [&'static str],
    bare: &'static [&'static str],
) -> CodeLabels {
    CodeLabels {
        language,
        named,
        bare,
    }
}

pub const CODE_LABELS: &[CodeLabels] = &[
    code_labels(
        "English",
        &[
            "shopify collaborator request code",
            "shopify collaborator code",
            "collaborator request code",
            "collaborator access code",
            "collaborator code",
            "store access code",
            "request code",
            "access code",
        ],
        &["code"],
    ),
    code_labels(
        "German",
        &[
            "code für mitarbeiteranfragen",
            "code für die mitarbeiteranfrage",
            "code für mitarbeiterzugriff",
            "mitarbeiteranfrage-code",
            "mitarbeiteranfragecode",
            "mitarbeiterzugangscode",
            "mitarbeiter-code",
            "mitarbeitercode",
            "anfrage-code",
            "anfragecode",
            "zugangscode",
            "zugriffscode",
        ],
        &["code"],
    ),
    code_labels(
        "French",
        &[
            "code de demande de collaborateur",
            "code de demande de collaboration",
            "code de collaborateur",
            "code collaborateur",
            "code de demande",
            "code d'accès",
            "code d’accès",
            "code d'acces",
        ],
        &["code"],
    ),
    code_labels(
        "Spanish",
        &[
            "código de solicitud de colaborador",
            "codigo de solicitud de colaborador",
            "código de colaborador",
            "codigo de colaborador",
            "código de solicitud",
            "codigo de solicitud",
            "código de acceso",
            "codigo de acceso",
        ],
        &["código", "codigo"],
    ),
    code_labels(
        "Italian",
        &[
            "codice di richiesta del collaboratore",
            "codice di richiesta collaboratore",
            "codice del collaboratore",
            "codice collaboratore",
            "codice di richiesta",
            "codice di accesso",
            "codice d'accesso",
            "codice d’accesso",
        ],
        &["codice"],
    ),
    code_labels(
        "Portuguese",
        &[
            "código de solicitação de colaborador",
            "código de solicitação do colaborador",
            "codigo de solicitacao de colaborador",
            "código de pedido de colaborador",
            "código de colaborador",
            "código do colaborador",
            "codigo de colaborador",
            "código de solicitação",
            "código de pedido",
            "código de acesso",
            "codigo de acesso",
        ],
        &["código", "codigo"],
    ),
    code_labels(
        "Dutch",
        &[
            "code voor medewerkersverzoeken",
            "code voor medewerkersverzoek",
            "medewerkersverzoekcode",
            "medewerkerscode",
            "medewerkercode",
            "aanvraagcode",
            "verzoekcode",
            "toegangscode",
        ],
        &["code"],
    ),
    code_labels(
        "Swedish",
        &[
            "kod för medarbetarförfrågan",
            "medarbetarförfrågningskod",
            "medarbetarkod",
            "förfrågningskod",
            "åtkomstkod",
        ],
        &["kod"],
    ),
    code_labels(
        "Danish",
        // Not "adgangskode": in Danish that is a password.
        &[
            "kode til samarbejdspartneranmodning",
            "samarbejdspartnerkode",
            "anmodningskode",
        ],
        &["kode"],
    ),
    code_labels(
        "Norwegian",
        &[
            "kode for samarbeidspartnerforespørsel",
            "samarbeidspartnerkode",
            "forespørselskode",
            "tilgangskode",
        ],
        &["kode"],
    ),
    code_labels(
        "Finnish",
        &[
            "yhteistyökumppanin pyyntökoodi",
            "yhteistyökumppanikoodi",
            "pyyntökoodi",
            "käyttöoikeuskoodi",
        ],
        &["koodi"],
    ),
    code_labels(
        "Polish",
        &[
            "kod prośby o współpracę",
            "kod prośby współpracownika",
            "kod współpracownika",
            "kod prośby",
            "kod dostępu",
        ],
        &["kod"],
    ),
    code_labels(
        "Czech",
        &[
            "kód žádosti o spolupráci",
            "kód spolupracovníka",
            "kód žádosti",
            "přístupový kód",
        ],
        &["kód"],
    ),
    code_labels(
        "Turkish",
        &[
            "ortak çalışan istek kodu",
            "ortak çalışan kodu",
            "istek kodu",
            "erişim kodu",
        ],
        &["kod"],
    ),
    code_labels(
        "Russian",
        &[
            "код запроса для соавтора",
            "код запроса соавтора",
            "код соавтора",
            "код запроса",
            "код доступа",
        ],
        &["код"],
    ),
    code_labels(
        "Japanese",
        &[
            "コラボレーターのリクエストコード",
            "コラボレーターリクエストコード",
            "コラボレーターコード",
            "リクエストコード",
            "アクセスコード",
        ],
        &["コード"],
    ),
    code_labels(
        "Chinese (Simplified)",
        &["协作者请求代码", "协作者代码", "请求代码", "访问代码"],
        &["代码"],
    ),
    code_labels(
        "Chinese (Traditional)",
        &["協作者要求代碼", "協作者代碼", "要求代碼", "存取代碼"],
        &["代碼"],
    ),
    code_labels(
        "Korean",
        &[
            "협업자 요청 코드",
            "협업자 코드",
            "요청 코드",
            "액세스 코드",
        ],
        &["코드"],
    ),
];
