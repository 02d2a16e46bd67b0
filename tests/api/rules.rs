//! `docs/RULES.md`, held to the code. Every rule ID is listed once; every
//! built rule names its home (a file and a function), and that function
//! carries the home marker comment, which no other file does; every ID the
//! code or the tests cite is listed; and where the operator's spec lies
//! beside the clone (`../shared/spec/RULES.md`), every ID of it is listed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const FAMILIES: [&str; 13] = [
    "MIG", "SET", "PW", "LOG", "MFA", "TOS", "RST", "CLM", "CASE", "ADM", "MSG", "SES", "AUD",
];

/// How a home is marked: a comment line of its own, `// home of` and IDs.
const MARKER: &str = "// home of ";

/// The folders whose comments and test names may cite rules.
const CITING: [&str; 4] = ["shared", "functions", "src", "tests/api"];

struct Row {
    id: String,
    line: usize,
    built: bool,
    /// `(path, function)`: the file, and `function` or `Type::function`.
    home: Option<(String, String)>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn is_id(s: &str) -> bool {
    s.split_once('-').is_some_and(|(family, n)| {
        FAMILIES.contains(&family) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Every rule ID in `text` (`LOG-2`, not inside a longer word).
fn ids_in(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_uppercase() || (i > 0 && b[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && b[j].is_ascii_uppercase() {
            j += 1;
        }
        let mut k = j + 1;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        let ends = k >= b.len() || !b[k].is_ascii_alphanumeric();
        if j < b.len() && b[j] == b'-' && k > j + 1 && ends && is_id(&text[i..k]) {
            out.push(text[i..k].to_string());
        }
        i = j.max(i + 1);
    }
    out
}

/// The IDs a test name carries: `log_2_…` or `…_mfa_6_…`.
fn ids_in_name(name: &str) -> Vec<String> {
    let parts: Vec<&str> = name.split('_').collect();
    parts
        .windows(2)
        .map(|w| format!("{}-{}", w[0].to_ascii_uppercase(), w[1]))
        .filter(|id| is_id(id))
        .collect()
}

/// The name of the function a line declares, if it declares one.
fn fn_name(line: &str) -> Option<&str> {
    let code = line.split("//").next().unwrap_or("");
    let at = code
        .match_indices("fn ")
        .map(|(i, _)| i)
        .find(|&i| i == 0 || code.as_bytes()[i - 1] == b' ')?;
    let rest = &code[at + 3..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// The IDs of a marker line, or `Err` for a marker that names something else.
fn marker(line: &str) -> Option<Result<Vec<String>, String>> {
    let rest = line.trim_start().strip_prefix(MARKER)?;
    let ids: Vec<String> = rest.split(',').map(|s| s.trim().to_string()).collect();
    Some(match ids.iter().find(|id| !is_id(id)) {
        Some(bad) => Err(format!("`{bad}` is not a rule ID")),
        None => Ok(ids),
    })
}

fn read(rel: &str) -> Option<String> {
    fs::read_to_string(root().join(rel)).ok()
}

fn rows() -> Vec<Row> {
    let text = read("docs/RULES.md").expect("docs/RULES.md exists");
    let mut built = true;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with("## ") {
            built = !line.to_ascii_lowercase().contains("not built");
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if !line.starts_with('|') || !cells.get(1).is_some_and(|c| is_id(c)) {
            continue;
        }
        let code: Vec<&str> = match cells.as_slice() {
            [_, _, _, home, _] => home.split('`').skip(1).step_by(2).collect(),
            _ => vec![],
        };
        out.push(Row {
            id: cells[1].to_string(),
            line: n + 1,
            built,
            home: match code.as_slice() {
                [path, function] => Some((path.to_string(), function.to_string())),
                _ => None,
            },
        });
    }
    out
}

/// Every `.rs` file under `dir`, as paths relative to the repository.
fn rs_files(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path: PathBuf = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                rs_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            let rel = path.strip_prefix(root()).unwrap_or(&path);
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn fail_on(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "docs/RULES.md and the code disagree:\n{}",
        problems.join("\n")
    );
}

#[test]
fn rules_every_id_is_listed_once() {
    let rows = rows();
    assert!(rows.len() > 50, "docs/RULES.md lists {} rules", rows.len());
    let mut problems = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        if let Some(first) = seen.insert(&r.id, r.line) {
            let (id, line) = (&r.id, r.line);
            problems.push(format!("{id} is listed twice (lines {first} and {line})"));
        }
    }
    let spec = ["/work/shared/spec/RULES.md", "../shared/spec/RULES.md"]
        .iter()
        .find_map(|p| fs::read_to_string(root().join(p)).ok());
    for line in spec.as_deref().unwrap_or("").lines() {
        let Some(rest) = line.strip_prefix("- ") else {
            continue;
        };
        let id = rest.split_whitespace().next().unwrap_or("");
        if is_id(id) && !seen.contains_key(id) {
            problems.push(format!("{id} of ../shared/spec/RULES.md is not listed"));
        }
    }
    fail_on(problems);
}

#[test]
fn rules_every_built_rule_has_one_home() {
    let rows = rows();
    let mut problems = Vec::new();
    let by_id: BTreeMap<&str, &Row> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
    // Every marker in the repository, checked against the list.
    let mut files = Vec::new();
    rs_files(root(), &mut files);
    let mut marked: BTreeSet<(String, String)> = BTreeSet::new();
    for file in &files {
        let text = read(file).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            let ids = match marker(line) {
                None => continue,
                Some(Err(e)) => {
                    problems.push(format!("{file}:{}: {e}", n + 1));
                    continue;
                }
                Some(Ok(ids)) => ids,
            };
            for id in ids {
                let at = format!("{file}:{}", n + 1);
                match by_id.get(id.as_str()) {
                    None => problems.push(format!("{at}: home of {id}, which is not listed")),
                    Some(r) if !r.built => {
                        problems.push(format!("{at}: home of {id}, which is listed as not built"))
                    }
                    Some(Row {
                        home: Some((path, function)),
                        ..
                    }) if path == file => {
                        // Right above the function, or inside it.
                        let name = function.rsplit("::").next().unwrap_or("");
                        let next = lines[n..].iter().find_map(|l| fn_name(l));
                        let prev = lines[..n].iter().rev().find_map(|l| fn_name(l));
                        if next == Some(name) || prev == Some(name) {
                            marked.insert((id, file.clone()));
                        } else {
                            problems.push(format!("{at}: home of {id} is not at {function}"));
                        }
                    }
                    Some(r) => {
                        let named = r.home.as_ref().map_or("no home", |(p, _)| p.as_str());
                        problems.push(format!(
                            "{at}: home of {id}, but docs/RULES.md line {} names {named}",
                            r.line
                        ))
                    }
                }
            }
        }
    }
    // Every built rule's home: the file, the function, the marker.
    for r in rows.iter().filter(|r| r.built) {
        let id = &r.id;
        let Some((path, function)) = &r.home else {
            problems.push(format!("{id} has no home (line {})", r.line));
            continue;
        };
        let Some(text) = read(path) else {
            problems.push(format!("{id}: {path} does not exist"));
            continue;
        };
        let (ty, name) = function.rsplit_once("::").unwrap_or(("", function));
        let decl = text
            .lines()
            .enumerate()
            .filter(|(_, l)| fn_name(l) == Some(name))
            .map(|(i, _)| i)
            .collect::<Vec<_>>();
        if decl.is_empty() {
            problems.push(format!("{id}: {path} has no `fn {name}`"));
            continue;
        }
        if !ty.is_empty() {
            let lines: Vec<&str> = text.lines().collect();
            let in_type = decl.iter().any(|&i| {
                lines[..i]
                    .iter()
                    .rev()
                    .find(|l| l.trim_start().starts_with("impl"))
                    .is_some_and(|l| l.split(|c: char| !c.is_alphanumeric()).any(|w| w == ty))
            });
            if !in_type {
                problems.push(format!("{id}: {path} has no `fn {name}` in an `impl {ty}`"));
            }
        }
        if !marked.contains(&(id.clone(), path.clone())) {
            problems.push(format!("{id}: {path} has no `{MARKER}{id}` at {function}"));
        }
    }
    fail_on(problems);
}

#[test]
fn rules_every_cited_id_is_listed() {
    let listed: BTreeSet<String> = rows().into_iter().map(|r| r.id).collect();
    let mut problems = BTreeSet::new();
    let mut files = Vec::new();
    for dir in CITING {
        rs_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 50, "only {} source files found", files.len());
    for file in &files {
        for (n, line) in read(file).unwrap_or_default().lines().enumerate() {
            let comment = line.find("//").map_or("", |i| &line[i..]);
            let mut cited = ids_in(comment);
            cited.extend(fn_name(line).map(ids_in_name).unwrap_or_default());
            for id in cited.into_iter().filter(|id| !listed.contains(id)) {
                problems.insert(format!("{file}:{}: cites {id}, which is not listed", n + 1));
            }
        }
    }
    fail_on(problems.into_iter().collect());
}
