//! The words people's mail clients and Leadsie write, per language, as data.
//! Nothing here decides anything: a forward is recognised by its shape
//! (`forward.rs`), a code by its place beside a label (`grant`,
//! `code_label.rs`), a veto by where its words stand (`veto.rs`). These
//! lists only tell roles apart (which header line names the sender, which
//! label is a code's, which sentence says access ended). To add a language,
//! add its words to these files and nowhere else; `tests/clients.rs` shows what a new
//! locale's forwards look like.
//!
//! - [`headers`] — forward header labels, "wrote:" lines, content labels.
//! - [`codes`] — collaborator-code labels.
//! - [`vetoes`] — automatic replies, reports, lists, tests, marketing.
//! - [`statements`] — access ended, and rule or condition words.

pub mod codes;
pub mod headers;
pub mod statements;
pub mod vetoes;

pub use codes::*;
pub use headers::*;
pub use statements::*;
pub use vetoes::*;
