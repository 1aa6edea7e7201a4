//! The words that say access ended, and those that make such a phrase a
//! rule, a condition or a question rather than news.

/// Words that say by themselves that a connection ended or a code no
/// longer works: a Leadsie email stating one is never a grant, even when
/// it repeats the old code. A sentence that only says when it would happen
/// ("if the client disconnects, this code is no longer valid") does not
/// count.
pub const ENDED_STATES: &[&str] = &[
    // English
    "disconnected",
    "no longer valid",
    "not valid anymore",
    "not valid any more",
    "no longer works",
    "no longer work",
    "no longer has access",
    "no longer have access",
    "invalidated",
    // German
    "getrennt",
    "nicht mehr gültig",
    "ungültig geworden",
    // French
    "déconnecté",
    "déconnectée",
    "déconnectés",
    "n'est plus valide",
    "n’est plus valide",
    "n'est plus valable",
    "n’est plus valable",
    // Spanish
    "desconectado",
    "desconectada",
    "ya no es válido",
    "ya no es valido",
    // Italian
    "disconnesso",
    "disconnessa",
    "non è più valido",
    "non e più valido",
    // Portuguese
    "desconectou",
    "não é mais válido",
    "nao e mais valido",
    "já não é válido",
    // Dutch
    "ontkoppeld",
    "verbroken",
    "niet meer geldig",
];

/// Verbs that say something ended when an [`ACCESS_NOUNS`] word stands in
/// the same clause: "your access to Acme's store has been revoked", "Acme
/// removed Leadsie's connection", "the code expired".
pub const ENDED_VERBS: &[&str] = &[
    // English
    "revoked",
    "removed",
    "withdrawn",
    "withdrew",
    "ended",
    "terminated",
    "cancelled",
    "canceled",
    "deleted",
    "deactivated",
    "expired",
    // German
    "widerrufen",
    "entzogen",
    "entfernt",
    "gelöscht",
    "beendet",
    "abgelaufen",
    // French
    "révoqué",
    "révoquée",
    "retiré",
    "retirée",
    "supprimé",
    "supprimée",
    "expiré",
    // Spanish
    "revocado",
    "revocada",
    "eliminado",
    "eliminada",
    "retirado",
    "retirada",
    "caducado",
    // Italian
    "revocato",
    "revocata",
    "rimosso",
    "rimossa",
    "eliminato",
    "scaduto",
    // Portuguese
    "revogado",
    "revogada",
    "removido",
    "removida",
    "expirado",
    // Dutch
    "ingetrokken",
    "verwijderd",
    "beëindigd",
    "verlopen",
];

/// What a connection's end is said of: access, a connection, a code, a
/// store.
pub const ACCESS_NOUNS: &[&str] = &[
    // English
    "access",
    "connection",
    "connections",
    "permission",
    "permissions",
    "code",
    "codes",
    "store",
    "shop",
    "collaborator",
    // German
    "zugriff",
    "zugang",
    "verbindung",
    "berechtigung",
    "berechtigungen",
    "code",
    // French
    "accès",
    "connexion",
    "autorisation",
    "boutique",
    // Spanish
    "acceso",
    "conexión",
    "permiso",
    "código",
    "tienda",
    // Italian
    "accesso",
    "connessione",
    "autorizzazione",
    "codice",
    "negozio",
    // Portuguese
    "acesso",
    "conexão",
    "permissão",
    "loja",
    // Dutch
    "toegang",
    "verbinding",
    "koppeling",
    "winkel",
];

/// Words that make a statement a condition or a rule rather than a fact,
/// before it or after it in its clause ("if you don't use it, access is
/// removed", "access is removed if nobody logs in"), in every language
/// above. Written with the word after them where the word alone is another
/// language's pronoun (French "si", Italian "si è"; Portuguese "se",
/// Spanish "se ha").
pub const CONDITIONALS: &[&str] = &[
    // English
    "if",
    "unless",
    "whenever",
    "in case",
    "as long as",
    "provided that",
    // German
    "wenn",
    "falls",
    "sofern",
    // French
    "si le",
    "si la",
    "si les",
    "si vous",
    "si votre",
    "s'il",
    "s’il",
    // Spanish
    "si el",
    "si tu",
    "si su",
    "si usted",
    "en caso de",
    // Italian
    "se il",
    "se non",
    "qualora",
    // Portuguese
    "se o",
    "se você",
    "se não",
    // Dutch
    "als u",
    "als de",
    "als het",
    "indien",
];

/// Words that make what follows them a condition ("once the client
/// disconnects, this code is no longer valid"), but that after a fact only
/// say when it happened ("access was removed when the owner …").
pub const CONDITIONALS_BEFORE: &[&str] = &[
    "when", "once", "sobald", "lorsque", "quand", "dès que", "cuando", "quando", "zodra",
];

/// Auxiliaries that, just before a statement, make it a possibility ("may
/// be revoked", "will no longer be valid") rather than news.
pub const MODAL_AUXILIARIES: &[&str] = &[
    "will", "'ll", "may", "might", "can", "could", "would", "should", "must", "be", "to", "won't",
    "can't", "cannot",
];

/// Auxiliaries that, just before "removed" or "revoked", make it a rule
/// ("access is removed automatically") rather than news ("was removed",
/// "Acme removed you").
pub const PRESENT_AUXILIARIES: &[&str] = &["is", "are", "am", "get", "gets", "getting", "being"];

/// Auxiliaries that make a statement past, so news, whatever rule words
/// it holds ("your access was removed automatically after 90 days"). Not
/// "has" or "have": "you no longer have access after 90 days" is a rule.
pub const PAST_AUXILIARIES: &[&str] = &["was", "were", "been", "had", "did"];

/// Adverbs skipped when looking for the auxiliary before a verb.
pub const ADVERBS: &[&str] = &[
    "automatically",
    "also",
    "always",
    "then",
    "usually",
    "normally",
    "typically",
    "immediately",
    "permanently",
    "simply",
    "not",
    "never",
    "eventually",
];

/// Phrases that make a present-tense statement a rule about time ("you no
/// longer have access after 90 days without a login"); "after N days" is
/// recognised by its shape.
pub const GENERAL_MARKERS: &[&str] = &[
    "automatically",
    "days without",
    "days of inactivity",
    "without a login",
    "without logging in",
    "inactive for",
    "at any time",
];
