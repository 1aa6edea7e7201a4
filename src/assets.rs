//! What the Debian package installs beside the binary, made from the code so
//! it cannot drift from it: the manual pages (`collabd(1)`, one page per
//! subcommand, and `collabd.toml(5)` from `deploy/collabd.toml`, the one
//! config reference) and the bash, zsh and fish completions. Written by the
//! hidden `collabd generate-assets DIR`; `deploy/build-deb` runs it before
//! `cargo deb`. Knows nothing of what collabd does, only how it is invoked
//! and configured.

use std::io;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_mangen::roff::{Inline, Roff, bold, roman};

use crate::cli::args::Cli;

/// The config reference, as `/etc/collabd/collabd.toml` ships.
const CONFIG_REFERENCE: &str = include_str!("../deploy/collabd.toml");

/// The Debian changelog: its first entry is this release.
const CHANGELOG: &str = include_str!("../deploy/debian/changelog");

/// Writes every asset into `dir` (created if missing) and returns the
/// files written: `collabd.1` and a page per subcommand
/// (`collabd-run.1`, `collabd-browser-login.1`, …), `collabd.toml.5`,
/// `collabd.bash`, `_collabd` (zsh) and `collabd.fish`. Pages of
/// subcommands that no longer exist are deleted first, so a glob over
/// `*.1` ships only current ones.
pub fn write(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("collabd") && name.ends_with(".1") {
            std::fs::remove_file(&path)?;
        }
    }
    let mut files = Vec::new();
    let mut put = |name: String, bytes: Vec<u8>| -> io::Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        files.push(path);
        Ok(())
    };
    for (name, page) in command_pages() {
        put(name, page)?;
    }
    put("collabd.toml.5".into(), config_page().into_bytes())?;
    for (name, script) in completions() {
        put(name, script)?;
    }
    Ok(files)
}

/// The command line as people see it: without the hidden top-level
/// subcommands (clap_complete would offer them) and without clap's `help`
/// subcommand.
fn command() -> clap::Command {
    let full = Cli::command();
    let mut cmd = clap::Command::new("collabd")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand_required(full.is_subcommand_required_set())
        .disable_help_subcommand(true)
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    if let Some(about) = full.get_long_about() {
        cmd = cmd.long_about(about.clone());
    }
    cmd.build();
    cmd
}

/// `collabd.1`, then one page per visible subcommand, nested ones named
/// after their path (`collabd-browser-login.1`), each as (file name, roff).
fn command_pages() -> Vec<(String, Vec<u8>)> {
    fn walk(cmd: clap::Command, top: bool, pages: &mut Vec<(String, Vec<u8>)>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub.clone(), false, pages);
        }
        let man = clap_mangen::Man::new(cmd)
            .date(release().1)
            .source(format!("collabd {}", env!("CARGO_PKG_VERSION")))
            .manual("collabd manual");
        let name = man.get_filename();
        let mut page = Vec::new();
        man.render(&mut page)
            .expect("rendering into a Vec cannot fail");
        let mut tail = Roff::new();
        if top {
            tail.control("SH", ["FILES"]);
            for (path, what) in FILES {
                tail.control("TP", []);
                tail.text([bold(path)]);
                tail.text([roman(what)]);
            }
        }
        tail.control("SH", ["SEE ALSO"]);
        tail.text([roman(if top {
            "collabd.toml(5), systemctl(1), journalctl(1), systemd.exec(5)"
        } else {
            "collabd(1), collabd.toml(5)"
        })]);
        page.extend_from_slice(tail.render().as_bytes());
        pages.push((name, page));
    }
    let mut pages = Vec::new();
    walk(command(), true, &mut pages);
    // The top page last from the walk; first is easier to read in a listing.
    pages.rotate_right(1);
    pages
}

/// collabd(1)'s FILES: where the package puts what collabd reads.
const FILES: [(&str, &str); 3] = [
    (
        "/etc/collabd/collabd.toml",
        "the configuration; see collabd.toml(5).",
    ),
    (
        "/var/lib/collabd/collabd.db",
        "the database under systemd ([database] path).",
    ),
    (
        "/usr/share/doc/collabd/README.md.gz",
        "installing, operating and troubleshooting collabd.",
    ),
];

/// The bash, zsh and fish completion scripts, each as (file name, script).
fn completions() -> Vec<(String, Vec<u8>)> {
    use clap_complete::{Generator, Shell};
    [Shell::Bash, Shell::Zsh, Shell::Fish]
        .into_iter()
        .map(|shell| {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command(), "collabd", &mut script);
            (shell.file_name("collabd"), script)
        })
        .collect()
}

/// This release's version and date (`YYYY-MM-DD`), from the changelog's
/// first entry: `collabd (0.2.0-1) …` and its ` -- Name <addr>  date` line.
fn release() -> (String, String) {
    let version = CHANGELOG
        .lines()
        .next()
        .and_then(|l| l.split_once('(')?.1.split_once(')'))
        .map(|(v, _)| v.to_owned())
        .unwrap_or_default();
    let date = CHANGELOG
        .lines()
        .find_map(|l| l.strip_prefix(" -- ")?.split_once(">  "))
        .and_then(|(_, d)| chrono::DateTime::parse_from_rfc2822(d.trim()).ok())
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    (version, date)
}

/// `collabd.toml(5)`: the config reference's opening comment is the
/// DESCRIPTION; each table (`[imap]`, or `# [imap.oauth2]` when the file
/// leaves it out) is a section with its prose as paragraphs and each
/// setting, set or commented out, as a tagged entry with its comment.
fn config_page() -> String {
    let mut roff = Roff::new();
    let source = format!("collabd {}", env!("CARGO_PKG_VERSION"));
    roff.control(
        "TH",
        [
            "COLLABD.TOML",
            "5",
            release().1.as_str(),
            source.as_str(),
            "collabd manual",
        ],
    );
    // Names and URLs stay whole (COLLABD__IMAP__FOLDERS, a token URL), and
    // lines ragged rather than stretched around them.
    roff.control("nh", []);
    roff.control("ad", ["l"]);
    roff.control("SH", ["NAME"]);
    roff.text([roman("collabd.toml - the configuration file of collabd(1)")]);
    roff.control("SH", ["SYNOPSIS"]);
    roff.text([bold("/etc/collabd/collabd.toml")]);
    for table in tables(CONFIG_REFERENCE) {
        let heading = match table.name {
            Some(name) => format!("[{name}]"),
            None => "DESCRIPTION".to_owned(),
        };
        roff.control("SH", [heading.as_str()]);
        for item in &table.items {
            match item {
                Item::Prose(text) => {
                    roff.control("PP", []);
                    text_around_long_words(&mut roff, text);
                }
                Item::Setting { key, value, note } => {
                    roff.control("TP", []);
                    let tag = [bold(key.as_str()), roman(format!(" = {value}"))];
                    if longest_word(value) > UNBROKEN {
                        // Too long for a line: shown as it is, not filled
                        // (which would warn that it cannot break it).
                        roff.control("nf", []);
                        roff.text(tag);
                        roff.control("fi", []);
                    } else {
                        roff.text(tag);
                    }
                    if !note.is_empty() {
                        text_around_long_words(&mut roff, note);
                    }
                }
            }
        }
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(
        "collabd(1), systemd.exec(5) (LoadCredential=); the README in /usr/share/doc/collabd.",
    )]);
    roff.render()
}

/// One table of the config reference: `None` for the opening comment.
struct Table<'a> {
    name: Option<&'a str>,
    items: Vec<Item>,
}

enum Item {
    /// A paragraph of comment, its lines joined.
    Prose(String),
    /// `key = value  # note`, whether the file sets it or shows it
    /// commented out (its default or an example).
    Setting {
        key: String,
        value: String,
        note: String,
    },
}

/// The reference read as tables. The comment paragraph right above a table
/// header (`# With auth = "xoauth2":` above `# [imap.oauth2]`) belongs to
/// that table.
fn tables(text: &str) -> Vec<Table<'_>> {
    let mut tables = vec![Table {
        name: None,
        items: Vec::new(),
    }];
    for paragraph in text.split("\n\n") {
        let mut lines = Vec::new();
        for line in paragraph.lines().filter(|l| !l.trim().is_empty()) {
            let Some(name) = table_header(line) else {
                lines.push(line);
                continue;
            };
            let current = tables.last_mut().expect("one table at least");
            let mut above = items(&std::mem::take(&mut lines));
            let lead = match above.last() {
                Some(Item::Prose(_)) => above.pop(),
                _ => None,
            };
            current.items.extend(above);
            tables.push(Table {
                name: Some(name),
                items: lead.into_iter().collect(),
            });
        }
        let current = tables.last_mut().expect("one table at least");
        current.items.extend(items(&lines));
    }
    tables
}

/// A paragraph's lines as prose and settings: consecutive comment lines
/// are one paragraph (up to a bare `#`); an indented comment line that
/// starts with `#` again continues the note of the setting above it.
fn items(lines: &[&str]) -> Vec<Item> {
    let mut items = Vec::new();
    let mut prose: Option<String> = None;
    for line in lines {
        match line_kind(line) {
            Line::Setting { key, value, note } => {
                flush(&mut prose, &mut items);
                items.push(Item::Setting {
                    key: key.to_owned(),
                    value: value.to_owned(),
                    note: note.to_owned(),
                });
            }
            Line::MoreNote(more) => {
                flush(&mut prose, &mut items);
                match items.last_mut() {
                    Some(Item::Setting { note, .. }) => {
                        note.push(' ');
                        note.push_str(more);
                    }
                    _ => items.push(Item::Prose(more.to_owned())),
                }
            }
            // A bare `#` separates paragraphs within a comment.
            Line::Prose("") => flush(&mut prose, &mut items),
            Line::Prose(words) => match &mut prose {
                Some(p) => {
                    p.push(' ');
                    p.push_str(words);
                }
                None => prose = Some(words.to_owned()),
            },
        }
    }
    flush(&mut prose, &mut items);
    items
}

fn flush(prose: &mut Option<String>, items: &mut Vec<Item>) {
    if let Some(p) = prose.take() {
        items.push(Item::Prose(p));
    }
}

/// `[imap]` or `# [imap.oauth2]`: the table's name.
fn table_header(line: &str) -> Option<&str> {
    let line = line.trim();
    let line = line.strip_prefix('#').map_or(line, str::trim_start);
    let name = line.strip_prefix('[')?.strip_suffix(']')?;
    name.chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.'))
        .then_some(name)
        .filter(|n| !n.is_empty())
}

enum Line<'a> {
    Setting {
        key: &'a str,
        value: &'a str,
        note: &'a str,
    },
    MoreNote(&'a str),
    Prose(&'a str),
}

fn line_kind(line: &str) -> Line<'_> {
    let body = match line.strip_prefix('#') {
        Some(rest) => {
            let rest = rest.strip_prefix(' ').unwrap_or(rest);
            if let Some(more) = rest.trim_start().strip_prefix('#') {
                // Only an indented `#` continues a note; `# # x` is prose.
                if rest.starts_with("  ") {
                    return Line::MoreNote(more.trim());
                }
            }
            rest
        }
        None => line,
    };
    if let Some((key, rest)) = body.split_once(" = ")
        && !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        let (value, note) = split_comment(rest);
        return Line::Setting {
            key,
            value: value.trim(),
            note: note.trim(),
        };
    }
    Line::Prose(body.trim())
}

/// A TOML value and its trailing `# comment`; a `#` inside a string is
/// part of the value.
fn split_comment(rest: &str) -> (&str, &str) {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return (&rest[..i], &rest[i + 1..]),
            _ => {}
        }
    }
    (rest, "")
}

/// The longest word a filled line takes: the page is 80 columns wide, less
/// the indent of a tagged paragraph.
const UNBROKEN: usize = 60;

fn longest_word(text: &str) -> usize {
    text.split_whitespace()
        .map(|w| w.chars().count())
        .max()
        .unwrap_or(0)
}

/// A paragraph, filled, with any word longer than a line (a URL) set on a
/// line of its own, unfilled, so groff neither breaks nor warns about it.
fn text_around_long_words(roff: &mut Roff, text: &str) {
    let mut run: Vec<&str> = Vec::new();
    for word in text.split_whitespace() {
        if word.chars().count() > UNBROKEN {
            if !run.is_empty() {
                roff.text(marked(&run.join(" ")));
                run.clear();
            }
            roff.control("nf", []);
            roff.text(marked(word));
            roff.control("fi", []);
        } else {
            run.push(word);
        }
    }
    if !run.is_empty() {
        roff.text(marked(&run.join(" ")));
    }
}

/// Text with its `code spans` in bold; roff escapes the rest.
fn marked(text: &str) -> Vec<Inline> {
    if text.matches('`').count() % 2 == 1 {
        return vec![roman(text)];
    }
    text.split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(i, part)| if i % 2 == 1 { bold(part) } else { roman(part) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<Option<&str>> {
        tables(text).iter().map(|t| t.name).collect()
    }

    #[test]
    fn a_comment_above_a_commented_out_table_opens_it() {
        let text = "# Top.\n\n[imap]\nhost = \"h\"\n\n# With auth = \"xoauth2\":\n# [imap.oauth2]\n# client_id = \"…\"\n";
        let t = tables(text);
        assert_eq!(names(text), [None, Some("imap"), Some("imap.oauth2")]);
        assert!(matches!(&t[2].items[0], Item::Prose(p) if p == "With auth = \"xoauth2\":"));
        assert!(matches!(&t[2].items[1], Item::Setting { key, .. } if key == "client_id"));
        assert_eq!(t[1].items.len(), 1);
    }

    #[test]
    fn an_indented_comment_continues_the_note_above() {
        let text = "[imap]\n# tls_pin = \"sha256:…\"   # or this\n#                 # and more\n";
        let t = tables(text);
        let Item::Setting { value, note, .. } = &t[1].items[0] else {
            panic!("not a setting");
        };
        assert_eq!(value, "\"sha256:…\"");
        assert_eq!(note, "or this and more");
    }

    #[test]
    fn a_hash_inside_a_string_is_part_of_the_value() {
        assert_eq!(
            split_comment(r##""a#b\"#c" # note"##),
            (r##""a#b\"#c" "##, " note")
        );
    }

    #[test]
    fn a_word_longer_than_a_line_is_set_unfilled_on_its_own_line() {
        let url = format!("https://example.org/{}", "x".repeat(UNBROKEN));
        let mut roff = Roff::new();
        text_around_long_words(&mut roff, &format!("before it {url} and after"));
        let page = roff.render();
        let at = page.find(&url).expect("the URL is on the page");
        assert!(page[..at].ends_with(".nf\n"), "{page}");
        assert!(page[at + url.len()..].starts_with("\n.fi\n"), "{page}");
        assert!(
            page.contains("before it") && page.contains("and after"),
            "{page}"
        );
    }

    #[test]
    fn a_leading_dot_or_backslash_cannot_become_roff() {
        let mut roff = Roff::new();
        roff.text(marked(".SH not a heading, 'nor this, \\fB"));
        let out = roff.to_roff();
        assert!(!out.lines().any(|l| l.starts_with(".SH")), "{out}");
        assert!(out.contains("\\\\fB"), "{out}");
    }

    #[test]
    fn the_release_is_the_changelogs_first_entry() {
        let (version, date) = release();
        assert_eq!(version, format!("{}-1", env!("CARGO_PKG_VERSION")));
        assert_eq!(date.len(), 10, "{date}");
    }
}
