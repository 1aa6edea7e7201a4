//! Test harness shared by the IMAP and daemon tests: a real Dovecot on free
//! loopback ports in a temp dir, a CA and server certificate made with
//! openssl, a small HTTP server for OAuth2 endpoints, and a PostgreSQL
//! cluster of its own per test.
#![allow(dead_code)]

pub mod browser;
pub mod corpus;
pub mod daemon;
pub mod dkim;
pub mod dns;
pub mod dovecot;
pub mod http;
pub mod postgres;
pub mod replica;
pub mod self_signed;
pub mod smtp;
