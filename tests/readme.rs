//! README.md as a newcomer meets it: one page (at most 300 lines), every
//! command in it run by CI, and every relative link in it and in
//! docs/*.md pointing at a file that exists.
//!
//! What counts as a command, and as running it:
//!
//! - A command is a line of a fenced code block in README.md tagged `sh`,
//!   `bash`, `shell` or `console`: every line that is not blank or a
//!   `#` comment, less a leading `$ ` prompt. In an untagged block, only
//!   lines that start with a command word (`sudo`, `collabd`, `cargo`,
//!   `systemctl`, …), so that sample output is not taken for a command.
//!   Other blocks (`toml`) hold no commands. A line ending in `\` goes on
//!   on the next line.
//! - A command's trailing `# comment` is dropped and its spaces collapsed.
//!   `<words in angle brackets>` is a placeholder for any text (the
//!   password the reader types). A leading `sudo ` (not `sudo -u`) may be
//!   missing where it runs: CI runs as root.
//! - It is run when it appears in `deploy/test-in-systemd` (the package
//!   installed under a booted systemd), `.ci/run` (which runs the tests
//!   and that script), or a file under `tests/`, as a whole command: at
//!   the start of a line or after a space, quote, `(` or the like, and
//!   ending at the end of the line or before a quote, `;`, `|`, `&`, `)`,
//!   a redirection or a comment. So `collabd status` is not run by
//!   `collabd status --db F`.
//! - In those files, comment lines are not read, nor what the scripts only
//!   print (`say "…"`, `ok "…"`, `fail "…"`, `echo "…"`, `printf "…"`,
//!   `wait_for N "…"`): quoting a command is not running it. The shell's
//!   escapes inside double quotes (`\"`, `\$`, `` \` ``, `\\`) read as the
//!   characters they stand for, because the scripts run the README's
//!   commands inside double quotes (`ctsh "…"`), and apt's `-y` is dropped,
//!   because a script cannot answer apt's question.
//!
//! `tests/ingest.rs` runs the `sqlite3` queries of the README and docs/
//! against a real database besides.

use std::path::{Path, PathBuf};

use regex::Regex;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The words a command line in an untagged block starts with.
const COMMAND_WORDS: &[&str] = &[
    "sudo",
    "sudoedit",
    "collabd",
    "cargo",
    "systemctl",
    "journalctl",
    "sqlite3",
    "apt",
    "apt-get",
    "man",
    "ls",
    "install",
    "bash",
    "openssl",
];

/// The README's commands, in the order they appear, with their line numbers.
fn readme_commands(readme: &str) -> Vec<(usize, String)> {
    let mut commands = Vec::new();
    // None outside a block; Some(true) in a shell block, Some(false) untagged.
    let mut block: Option<Option<bool>> = None;
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in readme.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(tag) = trimmed.strip_prefix("```") {
            block = match block {
                Some(_) => None,
                None => Some(match tag.trim() {
                    "sh" | "bash" | "shell" | "console" => Some(true),
                    "" => Some(false),
                    _ => None,
                }),
            };
            continue;
        }
        let Some(Some(shell)) = block else {
            continue;
        };
        let text = trimmed.strip_prefix("$ ").unwrap_or(trimmed);
        let (n, text) = match pending.take() {
            Some((n, head)) => (n, format!("{head} {text}")),
            None => {
                if text.is_empty() || text.starts_with('#') {
                    continue;
                }
                let first = text.split_whitespace().next().unwrap_or("");
                if !shell && !COMMAND_WORDS.contains(&first) {
                    continue;
                }
                (i + 1, text.to_owned())
            }
        };
        match text.strip_suffix('\\') {
            Some(head) => pending = Some((n, head.trim_end().to_owned())),
            None => commands.push((n, normalise_command(&text))),
        }
    }
    commands
}

/// Drops a trailing `# comment` (one outside quotes, after a space) and
/// collapses spaces.
fn normalise_command(command: &str) -> String {
    let mut quote = None;
    let mut end = command.len();
    let mut previous = ' ';
    for (i, c) in command.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if previous.is_whitespace() => {
                end = i;
                break;
            }
            _ => {}
        }
        previous = c;
    }
    collapse(&command[..end])
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A pattern that finds `command` run as a whole command on a line.
fn pattern(command: &str) -> Regex {
    let (sudo, rest) = match command.strip_prefix("sudo ") {
        Some(rest) if !rest.starts_with('-') => ("(?:sudo )?", rest),
        _ => ("", command),
    };
    let placeholder = Regex::new(r"<[A-Za-z][^<>]*>").unwrap();
    let mut body = String::new();
    let mut at = 0;
    for m in placeholder.find_iter(rest) {
        body.push_str(&regex::escape(&rest[at..m.start()]));
        body.push_str(".+?");
        at = m.end();
    }
    body.push_str(&regex::escape(&rest[at..]));
    Regex::new(&format!(
        r#"(?:^|[^A-Za-z0-9_./=-]){sudo}{body}(?:$|\s*(?:['"`;|&)<>#]|\d>))"#
    ))
    .unwrap()
}

/// Every file under `dir`, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The lines of the scripts and tests that run commands, read as the
/// module's documentation says.
fn runner_lines() -> Vec<(String, String)> {
    let mut files = vec![
        root().join("deploy/test-in-systemd"),
        root().join(".ci/run"),
    ];
    let this = root().join("tests/readme.rs");
    files.extend(
        files_under(&root().join("tests"))
            .into_iter()
            .filter(|f| *f != this),
    );
    let printed =
        Regex::new(r#"\b(?:say|ok|fail|echo|printf|wait_for\s+\d+)\s+"(?:[^"\\]|\\.)*""#).unwrap();
    let yes = Regex::new(r"(^|\s)-y(\s|$)").unwrap();
    let mut lines = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue; // not text (a fixture's binary part)
        };
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        for line in text.lines() {
            let trimmed = line.trim_start();
            if trimmed.starts_with('#') || trimmed.starts_with("//") {
                continue;
            }
            let line = printed.replace_all(line, "");
            let line = line
                .replace("\\\"", "\"")
                .replace("\\$", "$")
                .replace("\\`", "`")
                .replace("\\\\", "\\");
            let line = yes.replace_all(&line, "$1");
            lines.push((name.clone(), collapse(&line)));
        }
    }
    lines
}

#[test]
fn the_readme_is_one_page() {
    let readme = read(&root().join("README.md"));
    let n = readme.lines().count();
    assert!(
        n <= 300,
        "README.md has {n} lines; at most 300 (move detail to docs/)"
    );
}

#[test]
fn every_readme_command_is_run_by_ci() {
    let readme = read(&root().join("README.md"));
    let commands = readme_commands(&readme);
    assert!(
        commands.len() >= 10,
        "found only {} commands in README.md's code blocks: {commands:?}",
        commands.len()
    );
    let lines = runner_lines();
    let mut missing = Vec::new();
    for (n, command) in &commands {
        let p = pattern(command);
        if !lines.iter().any(|(_, line)| p.is_match(line)) {
            missing.push(format!("  README.md:{n}: {command}"));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} README commands are run neither by deploy/test-in-systemd, .ci/run nor a file under tests/:\n{}",
        missing.len(),
        commands.len(),
        missing.join("\n")
    );
}

/// The relative links of one Markdown file, outside code, with their
/// line numbers.
fn relative_links(text: &str) -> Vec<(usize, String)> {
    let link = Regex::new(r#"\]\(([^)\s]+)(?:\s+"[^"]*")?\)"#).unwrap();
    let code_span = Regex::new(r"`[^`]*`").unwrap();
    let scheme = Regex::new(r"^[A-Za-z][A-Za-z0-9+.-]*:").unwrap();
    let mut out = Vec::new();
    let mut in_block = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        let line = code_span.replace_all(line, "");
        for c in link.captures_iter(&line) {
            let target = &c[1];
            if target.starts_with('#') || scheme.is_match(target) {
                continue;
            }
            out.push((i + 1, target.to_owned()));
        }
    }
    out
}

fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    files.extend(
        files_under(&root().join("docs"))
            .into_iter()
            .filter(|f| f.extension().is_some_and(|x| x == "md")),
    );
    files
}

#[test]
fn every_relative_link_points_at_a_file() {
    let mut broken = Vec::new();
    let mut count = 0;
    for file in markdown_files() {
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        let dir = file.parent().unwrap();
        for (n, target) in relative_links(&read(&file)) {
            count += 1;
            let path = target.split('#').next().unwrap();
            if !dir.join(path).exists() {
                broken.push(format!("  {name}:{n}: {target}"));
            }
        }
    }
    assert!(count >= 20, "found only {count} relative links");
    assert!(
        broken.is_empty(),
        "links to files that do not exist:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_readme_links_every_doc() {
    let readme = read(&root().join("README.md"));
    let linked: Vec<String> = relative_links(&readme)
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let unlinked: Vec<String> = markdown_files()
        .into_iter()
        .skip(1)
        .map(|f| f.strip_prefix(root()).unwrap().display().to_string())
        .filter(|doc| !linked.contains(doc))
        .collect();
    assert!(
        unlinked.is_empty(),
        "README.md's \"Where to read more\" should list {unlinked:?}"
    );
}

/// The rules above, on examples: a command is found as a whole, with its
/// placeholder, sudo and quoting as the scripts write them.
#[test]
fn a_command_is_matched_as_a_whole() {
    let p = pattern(&normalise_command(
        "sudo collabd status          # each request",
    ));
    assert!(p.is_match("ctsh 'sudo collabd status' | grep x"));
    assert!(p.is_match("ct collabd status"));
    assert!(!p.is_match("ctsh 'sudo collabd status --db /var/lib/collabd/collabd.db'"));
    assert!(!p.is_match("ctsh 'sudo -u collabd collabd status --db F'"));
    let p = pattern("sudo install -m 0600 /dev/stdin /x <<< '<the password>'");
    assert!(p.is_match(r#"ctsh "sudo install -m 0600 /dev/stdin /x <<< '$pw'""#));
    let p = pattern("cargo deb");
    assert!(p.is_match("out=$(cargo deb 2>&1) || fail"));
    assert!(!p.is_match("cargo debian"));
    let p = pattern(r#"sudo -u collabd sqlite3 /db "select 1""#);
    assert!(!p.is_match(r#"sqlite3 /db "select 1""#));
    assert_eq!(
        normalise_command(r#"sqlite3 x "select '#', 1"   # not a comment inside quotes"#),
        r#"sqlite3 x "select '#', 1""#
    );
    let readme = "```sh\n$ cargo run \\\n    -- demo   # the demo\n```\n```\nIMAP watcher:\ncollabd status\n```\n```toml\nx = 1\n```\n";
    assert_eq!(
        readme_commands(readme),
        [
            (2, "cargo run -- demo".to_owned()),
            (7, "collabd status".to_owned())
        ]
    );
}
