//! What the Debian package ships beside the binary, checked against the code
//! it is made from: the manual pages document every subcommand and every
//! table and setting of deploy/collabd.toml, the completions name every
//! subcommand, the changelog's first entry is this version, and `apt purge`
//! removes every file the docs put in /etc/collabd. deploy/test-in-systemd
//! installs the package and opens the pages; this needs no root.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory;

fn repo(path: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `collabd generate-assets DIR`, as deploy/build-deb runs it.
fn generate() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_collabd"))
        .arg("generate-assets")
        .arg(dir.path())
        .env_remove("COLLABD_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "generate-assets: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(PathBuf::from)
        .collect();
    (dir, listed)
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The visible subcommands as (path, name): `("run", "run")`,
/// `("browser-login", "login")`, …
fn subcommands(cmd: &clap::Command, prefix: &str, into: &mut Vec<(String, String)>) {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let path = format!("{prefix}{}", sub.get_name());
        into.push((path.clone(), sub.get_name().to_owned()));
        subcommands(sub, &format!("{path}-"), into);
    }
}

fn every_subcommand() -> Vec<(String, String)> {
    let mut all = Vec::new();
    subcommands(&collabd::cli::Cli::command(), "", &mut all);
    assert!(all.len() > 10, "{all:?}");
    all
}

#[test]
fn collabd_1_lists_every_subcommand_and_each_has_its_page() {
    let (dir, listed) = generate();
    let top = read(dir.path(), "collabd.1");
    assert!(
        top.starts_with(".ie") && top.contains(".TH collabd 1 "),
        "{top}"
    );
    for cmd in collabd::cli::Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
    {
        // roff writes a hyphen as \-.
        let reference = format!("collabd\\-{}(1)", cmd.get_name().replace('-', "\\-"));
        assert!(top.contains(&reference), "collabd.1 lacks {reference}");
    }
    for (path, _) in every_subcommand() {
        let page = read(dir.path(), &format!("collabd-{path}.1"));
        let title = format!(".TH collabd-{path} 1 ");
        assert!(page.contains(&title), "collabd-{path}.1 lacks {title}");
        assert!(page.contains(".SH SYNOPSIS"), "collabd-{path}.1");
    }
    assert!(
        !top.contains("generate"),
        "a hidden subcommand is documented"
    );
    assert!(
        top.contains("collabd.toml(5)"),
        "collabd.1 does not point to collabd.toml(5)"
    );
    for name in ["collabd.toml.5", "collabd.bash", "_collabd", "collabd.fish"] {
        assert!(
            listed.contains(&dir.path().join(name)),
            "{name} not listed: {listed:?}"
        );
    }
}

#[test]
fn collabd_toml_5_has_every_table_and_setting_of_the_reference() {
    let (dir, _) = generate();
    let page = read(dir.path(), "collabd.toml.5");
    assert!(page.contains(".TH COLLABD.TOML 5 "), "{page}");
    let reference = repo("deploy/collabd.toml");
    let mut tables = 0;
    let mut settings = 0;
    for line in reference.lines() {
        let bare = line.strip_prefix('#').unwrap_or(line).trim();
        if bare.starts_with('[') && bare.ends_with(']') && !bare.contains(' ') {
            tables += 1;
            assert!(
                page.lines().any(|l| l == format!(".SH {bare}")),
                "collabd.toml.5 has no section {bare}"
            );
        } else if let Some((key, _)) = bare.split_once(" = ")
            && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            settings += 1;
            assert!(
                page.contains(&format!("\\fB{key}\\fR")),
                "collabd.toml.5 lacks the setting {key} ({line})"
            );
        }
    }
    assert!(
        tables >= 10 && settings >= 50,
        "{tables} tables, {settings} settings"
    );
    // Prose in the reference reaches the page as text, not as requests.
    assert!(page.contains("credential imap\\-password"), "{page}");
    for line in page.lines().filter(|l| l.starts_with('.')) {
        let request = line[1..].split(' ').next().unwrap_or("");
        assert!(
            // nf/fi: a value longer than a line, set unfilled.
            ["ie", "el", "TH", "SH", "PP", "TP", "nh", "ad", "nf", "fi"].contains(&request),
            "an unexpected roff request: {line}"
        );
    }
}

#[test]
fn the_completions_name_every_subcommand() {
    let (dir, _) = generate();
    for file in ["collabd.bash", "_collabd", "collabd.fish"] {
        let script = read(dir.path(), file);
        for (_, name) in every_subcommand() {
            assert!(script.contains(&name), "{file} does not name {name}");
        }
        assert!(
            !script.contains("generate-assets"),
            "{file} offers a hidden subcommand"
        );
    }
    let bash = read(dir.path(), "collabd.bash");
    assert!(
        bash.contains("complete -F _collabd") && bash.contains("collabd"),
        "{bash}"
    );
}

#[test]
fn the_changelogs_first_entry_is_this_version_by_the_packages_maintainer() {
    let manifest: toml::Value = repo("Cargo.toml").parse().unwrap();
    let maintainer = manifest["package"]["metadata"]["deb"]["maintainer"]
        .as_str()
        .unwrap();
    assert!(
        maintainer.contains(" <") && maintainer.ends_with('>') && maintainer.contains('@'),
        "the maintainer is not `Name <address>`: {maintainer}"
    );
    let changelog = repo("deploy/debian/changelog");
    let heads: Vec<&str> = changelog
        .lines()
        .filter(|l| l.starts_with("collabd ("))
        .collect();
    assert_eq!(
        heads.first().copied(),
        Some(
            format!(
                "collabd ({}-1) unstable; urgency=medium",
                env!("CARGO_PKG_VERSION")
            )
            .as_str()
        ),
        "bump Cargo.toml's version and add its entry to deploy/debian/changelog together"
    );
    let trailers: Vec<&str> = changelog
        .lines()
        .filter(|l| l.starts_with(" -- "))
        .collect();
    assert_eq!(
        trailers.len(),
        heads.len(),
        "an entry without its ` -- ` line"
    );
    for t in trailers {
        let (who, date) = t[4..].split_once("  ").expect("two spaces before the date");
        assert_eq!(who, maintainer, "{t}");
        chrono::DateTime::parse_from_rfc2822(date).unwrap_or_else(|e| panic!("{t}: {e}"));
    }
    // Newest first, each version greater than the one below it.
    let versions: Vec<Vec<u32>> = heads
        .iter()
        .map(|h| {
            let v = h.split(['(', ')']).nth(1).unwrap();
            v.split(['.', '-']).map(|n| n.parse().unwrap()).collect()
        })
        .collect();
    assert!(versions.windows(2).all(|w| w[0] > w[1]), "{heads:?}");
}

#[test]
fn purge_removes_every_file_the_docs_put_in_etc_collabd() {
    let postrm = repo("deploy/debian/postrm");
    let mut named = Vec::new();
    for doc in ["README.md", "deploy/collabd.toml", "deploy/collabd.service"] {
        let text = repo(doc);
        for (at, _) in text.match_indices("/etc/collabd/") {
            let rest = &text[at + "/etc/collabd/".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || "._/-".contains(c)))
                .unwrap_or(rest.len());
            let file = rest[..end].trim_end_matches('.');
            // collabd.toml is a conffile: dpkg removes it.
            if !file.is_empty() && file != "collabd.toml" && !named.contains(&file.to_owned()) {
                named.push(file.to_owned());
            }
        }
    }
    assert!(named.contains(&"http-users".to_owned()), "{named:?}");
    for file in &named {
        assert!(
            postrm
                .split_whitespace()
                .any(|w| w.trim_end_matches(';') == file),
            "deploy/debian/postrm does not remove /etc/collabd/{file} on purge"
        );
    }
}
