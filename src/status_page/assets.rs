//! The status page's stylesheet and script, compiled into the binary so
//! the page needs nothing from any other server.

pub const STYLE: &str = include_str!("assets/style.css");
pub const SCRIPT: &str = include_str!("assets/live.js");
