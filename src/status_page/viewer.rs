//! Who is looking at a page: signed in or not, and what they may read.

use super::auth::Session;

/// Who is looking at a page.
pub struct Viewer {
    pub session: Option<Session>,
    /// Someone could sign in (users are configured).
    pub can_sign_in: bool,
    /// The codes to mask in every field a signed-out reader sees (a
    /// subject or a client's name can quote one); none when signed in.
    pub hide: crate::redact::Redactor,
}

impl Viewer {
    /// Text from outside, made safe to read and with codes masked for a
    /// signed-out reader.
    pub fn text(&self, s: &str) -> String {
        let clean = crate::render::line(s);
        self.hide.apply(&clean).into_owned()
    }

    /// The same for a message's subject and reason, which may quote a code
    /// no request holds (a rejected or unreadable message): a signed-out
    /// reader sees no four-digit number in them at all.
    pub fn text_of_message(&self, s: &str) -> String {
        let text = self.text(s);
        if self.session.is_some() {
            text
        } else {
            crate::redact::Redactor::every_code()
                .apply(&text)
                .into_owned()
        }
    }
}
