//! The shape of `src`, checked from the code itself: no import cycle
//! between files, no file over 800 lines, and a module index in `lib.rs`
//! that names every module.
//!
//! The graph is read with `syn`: every `use` tree, every path in code and
//! types, and the tokens inside macro calls. A path resolves to the file
//! of the longest module prefix it names, so `crate::mail::grant::extract`
//! is an edge to `src/mail/grant.rs` and `crate::mail::Verdict` (even a
//! re-export) is an edge to `src/mail/mod.rs`. `mod x;` alone is not an
//! edge: declaring a child is not using it.
//!
//! Draw the picture (every file and what it reads, then any cycle):
//!
//! ```text
//! cargo test --release --test structure -- --ignored --nocapture picture
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

const MAX_LINES: usize = 800;

/// One module of the crate: where it lives and which child modules it
/// declares.
#[derive(Debug, Clone)]
struct Module {
    file: PathBuf,
    children: BTreeSet<String>,
}

struct Crate {
    /// Module path (`mail::grant`, or `` for the root) to its module.
    modules: BTreeMap<String, Module>,
    /// File to the module paths whose code it holds (inline ones too).
    files: BTreeMap<PathBuf, Vec<String>>,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}::{name}")
    }
}

fn parse(file: &Path) -> syn::File {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    syn::parse_file(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", file.display()))
}

/// Walks `mod` declarations from `lib.rs`, file and inline alike.
fn load_crate() -> Crate {
    let mut krate = Crate {
        modules: BTreeMap::new(),
        files: BTreeMap::new(),
    };
    load_file(&mut krate, String::new(), src().join("lib.rs"), src());
    krate
}

fn load_file(krate: &mut Crate, path: String, file: PathBuf, child_dir: PathBuf) {
    let ast = parse(&file);
    load_items(krate, path, &file, &child_dir, &ast.items);
}

fn load_items(krate: &mut Crate, path: String, file: &Path, child_dir: &Path, items: &[syn::Item]) {
    krate.modules.insert(
        path.clone(),
        Module {
            file: file.to_path_buf(),
            children: BTreeSet::new(),
        },
    );
    krate
        .files
        .entry(file.to_path_buf())
        .or_default()
        .push(path.clone());
    for item in items {
        let syn::Item::Mod(m) = item else { continue };
        let name = m.ident.to_string();
        let child = join(&path, &name);
        krate
            .modules
            .get_mut(&path)
            .expect("module just inserted")
            .children
            .insert(name.clone());
        match &m.content {
            Some((_, inner)) => {
                load_items(krate, child, file, &child_dir.join(&name), inner);
            }
            None => {
                let flat = child_dir.join(format!("{name}.rs"));
                let (file, dir) = if flat.exists() {
                    (flat, child_dir.join(&name))
                } else {
                    let nested = child_dir.join(&name).join("mod.rs");
                    (nested, child_dir.join(&name))
                };
                load_file(krate, child, file, dir);
            }
        }
    }
}

/// Collects the module-qualified paths one file refers to.
struct Refs<'a> {
    krate: &'a Crate,
    /// Module path of the code being visited (changes inside inline mods).
    here: Vec<String>,
    /// Names bound to modules by `use` in the module being visited.
    aliases: BTreeMap<String, BTreeMap<String, String>>,
    /// Files referred to.
    targets: BTreeSet<PathBuf>,
    /// Whether this file belongs to the library crate (`main.rs` names
    /// the library as `collabd::`).
    library: bool,
}

impl Refs<'_> {
    fn here(&self) -> String {
        self.here.join("::")
    }

    /// Resolves a path's segments to an absolute module path plus the
    /// rest, or `None` when it names something outside the crate.
    fn absolute(&self, segments: &[String]) -> Option<Vec<String>> {
        let first = segments.first()?;
        let mut base: Vec<String> = match first.as_str() {
            "crate" if self.library => Vec::new(),
            "collabd" if !self.library => Vec::new(),
            "self" => self.here.clone(),
            "super" => {
                let mut base = self.here.clone();
                let mut rest = segments;
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                return Some(base);
            }
            _ => {
                let here = self.here();
                if let Some(target) = self.aliases.get(&here).and_then(|a| a.get(first)) {
                    let mut base: Vec<String> = if target.is_empty() {
                        Vec::new()
                    } else {
                        target.split("::").map(str::to_string).collect()
                    };
                    base.extend(segments[1..].iter().cloned());
                    return Some(base);
                }
                let module = self.krate.modules.get(&here)?;
                if self.library && module.children.contains(first) {
                    let mut base = self.here.clone();
                    base.extend(segments.iter().cloned());
                    return Some(base);
                }
                return None;
            }
        };
        base.extend(segments[1..].iter().cloned());
        Some(base)
    }

    /// The longest module prefix of an absolute path.
    fn module_of(&self, absolute: &[String]) -> (String, usize) {
        let mut best = (String::new(), 0);
        for len in 1..=absolute.len() {
            let candidate = absolute[..len].join("::");
            if self.krate.modules.contains_key(&candidate) {
                best = (candidate, len);
            }
        }
        best
    }

    fn refer(&mut self, segments: &[String]) {
        let Some(absolute) = self.absolute(segments) else {
            return;
        };
        let (module, len) = self.module_of(&absolute);
        // A path that only names a module (`use crate::mail;`) is not a
        // use of that module's file: what is read through it is.
        if len == absolute.len() && len > 0 {
            return;
        }
        if let Some(m) = self.krate.modules.get(&module) {
            self.targets.insert(m.file.clone());
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                self.bind(prefix, &name, &name);
            }
            syn::UseTree::Rename(r) => {
                self.bind(prefix, &r.ident.to_string(), &r.rename.to_string());
            }
            syn::UseTree::Glob(_) => {
                // Everything of the module: a use of its file.
                if let Some(absolute) = self.absolute(prefix) {
                    let (module, _) = self.module_of(&absolute);
                    if let Some(m) = self.krate.modules.get(&module) {
                        self.targets.insert(m.file.clone());
                    }
                }
            }
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }

    fn bind(&mut self, prefix: &[String], name: &str, alias: &str) {
        let mut segments = prefix.to_vec();
        if name != "self" {
            segments.push(name.to_string());
        }
        let Some(absolute) = self.absolute(&segments) else {
            return;
        };
        let (module, len) = self.module_of(&absolute);
        if len == absolute.len() && (len > 0 || segments.len() == 1) {
            let alias = if name == "self" {
                segments.last().cloned().unwrap_or_default()
            } else {
                alias.to_string()
            };
            let here = self.here();
            self.aliases.entry(here).or_default().insert(alias, module);
            return;
        }
        self.refer(&segments);
    }

    /// Paths inside macro tokens: `a::b::c` sequences of identifiers.
    fn tokens(&mut self, tokens: proc_macro2::TokenStream) {
        let mut path: Vec<String> = Vec::new();
        let mut colons = 0;
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Ident(ident) => {
                    if colons == 2 || path.is_empty() {
                        path.push(ident.to_string());
                    } else {
                        self.flush(&mut path);
                        path.push(ident.to_string());
                    }
                    colons = 0;
                }
                proc_macro2::TokenTree::Punct(p) if p.as_char() == ':' => colons += 1,
                proc_macro2::TokenTree::Group(g) => {
                    self.flush(&mut path);
                    colons = 0;
                    self.tokens(g.stream());
                }
                _ => {
                    self.flush(&mut path);
                    colons = 0;
                }
            }
        }
        self.flush(&mut path);
    }

    fn flush(&mut self, path: &mut Vec<String>) {
        if path.len() > 1 {
            let segments = std::mem::take(path);
            self.refer(&segments);
        }
        path.clear();
    }
}

impl<'ast> Visit<'ast> for Refs<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if let Some((_, items)) = &m.content {
            self.here.push(m.ident.to_string());
            // Bind the inline module's `use`s before its code reads them.
            for item in items {
                if let syn::Item::Use(u) = item {
                    self.use_tree(&mut Vec::new(), &u.tree);
                }
            }
            for item in items {
                if !matches!(item, syn::Item::Use(_)) {
                    self.visit_item(item);
                }
            }
            self.here.pop();
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &u.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() > 1 {
            self.refer(&segments);
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }
}

/// File → files it reads, for every file of the library.
fn graph(krate: &Crate) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut edges = BTreeMap::new();
    for (file, modules) in &krate.files {
        let ast = parse(file);
        let here: Vec<String> = if modules[0].is_empty() {
            Vec::new()
        } else {
            modules[0].split("::").map(str::to_string).collect()
        };
        let mut refs = Refs {
            krate,
            here,
            aliases: BTreeMap::new(),
            targets: BTreeSet::new(),
            library: true,
        };
        // `use`s at the top of the file first, so code above them resolves.
        for item in &ast.items {
            if let syn::Item::Use(u) = item {
                refs.use_tree(&mut Vec::new(), &u.tree);
            }
        }
        for item in &ast.items {
            if !matches!(item, syn::Item::Use(_)) {
                refs.visit_item(item);
            }
        }
        let mut targets = refs.targets;
        targets.remove(file);
        edges.insert(file.clone(), targets);
    }
    edges
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct State<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        next: usize,
        found: Vec<Vec<PathBuf>>,
    }
    fn connect<'a>(s: &mut State<'a>, v: &'a PathBuf) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        let edges = s.edges;
        for w in edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                connect(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            connect(&mut s, v);
        }
    }
    s.found
}

fn short(file: &Path) -> String {
    file.strip_prefix(src())
        .unwrap_or(file)
        .display()
        .to_string()
}

/// Within a cycle, the edges that close it, for the failure message.
fn describe(cycle: &[PathBuf], edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> String {
    let members: BTreeSet<&PathBuf> = cycle.iter().collect();
    let mut lines = Vec::new();
    for from in cycle {
        for to in &edges[from] {
            if members.contains(to) {
                lines.push(format!("  {} -> {}", short(from), short(to)));
            }
        }
    }
    lines.join("\n")
}

#[test]
fn no_import_cycle_between_source_files() {
    let krate = load_crate();
    let edges = graph(&krate);
    let found = cycles(&edges);
    let text: Vec<String> = found.iter().map(|c| describe(c, &edges)).collect();
    assert!(
        found.is_empty(),
        "{} import cycle(s) between files in src:\n{}",
        found.len(),
        text.join("\n\n")
    );
}

#[test]
fn the_checker_sees_a_cycle_when_there_is_one() {
    // The detector itself, on a graph with a known cycle and a known tail.
    let a = PathBuf::from("a.rs");
    let b = PathBuf::from("b.rs");
    let c = PathBuf::from("c.rs");
    let d = PathBuf::from("d.rs");
    let mut edges = BTreeMap::new();
    edges.insert(a.clone(), BTreeSet::from([b.clone()]));
    edges.insert(b.clone(), BTreeSet::from([c.clone()]));
    edges.insert(c.clone(), BTreeSet::from([a.clone(), d.clone()]));
    edges.insert(d.clone(), BTreeSet::new());
    assert_eq!(cycles(&edges), vec![vec![a, b, c]]);
}

#[test]
fn the_graph_sees_edges_the_code_really_has() {
    // A file known to read the store through `crate::store` must show the
    // edge, or the cycle check above proves nothing.
    let krate = load_crate();
    let edges = graph(&krate);
    let worker = src().join("worker.rs");
    let reads: Vec<String> = edges[&worker].iter().map(|f| short(f)).collect();
    assert!(
        reads.iter().any(|f| f.starts_with("store")),
        "worker.rs reads no store file: {reads:?}"
    );
    assert!(
        edges.len() > 40,
        "only {} files found under src",
        edges.len()
    );
}

#[test]
fn no_source_file_over_800_lines() {
    let krate = load_crate();
    let mut long = Vec::new();
    for file in krate.files.keys().chain([&src().join("main.rs")]) {
        let lines = std::fs::read_to_string(file).unwrap().lines().count();
        if lines > MAX_LINES {
            long.push(format!("  {} has {lines} lines", short(file)));
        }
    }
    assert!(
        long.is_empty(),
        "files in src over {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn every_file_under_src_is_a_module_of_the_crate() {
    // A file nobody declares would escape every check above.
    let krate = load_crate();
    let mut stray = Vec::new();
    let mut stack = vec![src()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && !krate.files.contains_key(&path)
                && path != src().join("main.rs")
            {
                stray.push(short(&path));
            }
        }
    }
    assert!(
        stray.is_empty(),
        "files under src no module declares: {stray:?}"
    );
}

#[test]
fn the_module_index_names_every_module() {
    // lib.rs and each folder's mod.rs list their children in their docs,
    // as [`name`] or `name`.
    let krate = load_crate();
    let mut missing = Vec::new();
    for (path, module) in &krate.modules {
        let is_index = module.file == src().join("lib.rs")
            || module.file.file_name().is_some_and(|n| n == "mod.rs");
        let declared_here = krate.files[&module.file][0] == *path;
        if !is_index || !declared_here {
            continue;
        }
        let text = std::fs::read_to_string(&module.file).unwrap();
        let docs: String = text
            .lines()
            .filter(|l| l.trim_start().starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        for child in &module.children {
            if child == "tests" || child.ends_with("_tests") {
                continue;
            }
            let child_file = &krate.modules[&join(path, child)].file;
            if *child_file == module.file {
                continue; // inline module
            }
            if !docs.contains(&format!("`{child}`"))
                && !docs.contains(&format!("`{}`", join(path, child)))
                && !docs.contains(&format!("::{child}`"))
            {
                missing.push(format!("  {} does not name `{child}`", short(&module.file)));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "module index incomplete:\n{}",
        missing.join("\n")
    );
}

#[test]
#[ignore = "prints the dependency picture; run with --ignored --nocapture"]
fn picture() {
    let krate = load_crate();
    let edges = graph(&krate);
    for (from, to) in &edges {
        let to: Vec<String> = to.iter().map(|f| short(f)).collect();
        println!("{} -> {}", short(from), to.join(", "));
    }
    let found = cycles(&edges);
    println!("\n{} cycle(s)", found.len());
    for cycle in &found {
        println!("{}\n", describe(cycle, &edges));
    }
}
