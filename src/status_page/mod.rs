//! The status page on the `[http]` listener: every store, its state and
//! its story, for people who do not use SSH. Server-rendered HTML (maud)
//! with one stylesheet and one small script, all served from the binary.
//!
//! # Layout
//!
//! - [`server`] — [`Web`] (what the page needs from the daemon), routing
//!   of the page's addresses, who may see what, and the operator's actions
//!   (through [`crate::operator`], the CLI's rules).
//! - [`auth`] — sessions, CSRF tokens, the sign-in limit (the users and
//!   their passwords are [`crate::users`]).
//! - [`viewer`] — who is looking, and the codes masked for them.
//! - [`form`] — query strings, form bodies, Origin and CSRF checks.
//! - [`reply`] — answers with the headers every page carries.
//! - [`pages`] — the HTML of each page.
//! - [`assets`] — the stylesheet and the script.
//!
//! Access: on a loopback listener pages are readable without signing in
//! (codes masked); acting, full codes and raw mail need a signed-in
//! operator, also on loopback. A listener other hosts can reach, or
//! `http.require_sign_in = true`, needs sign-in for every page. Reads are
//! plain SELECTs (`store::web`); the only writes are the actions.

pub mod assets;
pub mod auth;
pub mod form;
pub mod pages;
pub mod reply;
pub mod server;
pub mod viewer;

pub use form::{Query, encode};
pub use pages::PAGE_SIZE;
pub use server::{Peer, Web};
pub use viewer::Viewer;
