//! What the tests of `docs/openapi.json` share: the document, its
//! operations, the live `/api/` routes, and its schemas as a JSON Schema
//! 2020-12 validator (the `jsonschema` crate; OpenAPI 3.1's schemas are JSON
//! Schema).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use tobira_web::routes::ROUTES;

pub const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");

/// The HTTP methods an OpenAPI path item can hold.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

pub type Op = (String, String);

pub fn doc() -> Value {
    let text = std::fs::read_to_string(DOC).unwrap_or_else(|e| panic!("cannot read {DOC}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{DOC} is not valid JSON: {e}"))
}

/// Every operation of the document by (METHOD, path).
pub fn operations(doc: &Value) -> BTreeMap<Op, Value> {
    let paths = doc["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("{DOC}: `paths` must be an object"));
    let mut ops = BTreeMap::new();
    for (path, item) in paths {
        let item = item
            .as_object()
            .unwrap_or_else(|| panic!("{DOC}: path item {path} must be an object"));
        for (key, op) in item {
            if METHODS.contains(&key.as_str()) {
                ops.insert((key.to_ascii_uppercase(), path.clone()), op.clone());
            }
        }
    }
    ops
}

/// The live JSON API: the routes of `ROUTES` under `/api/`, with their function.
pub fn live_api_routes() -> BTreeMap<Op, &'static str> {
    ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/api/"))
        .map(|r| ((r.method.to_string(), r.path.to_string()), r.function))
        .collect()
}

pub fn show(ops: &BTreeSet<&Op>) -> String {
    if ops.is_empty() {
        return "  (none)".into();
    }
    ops.iter()
        .map(|(m, p)| format!("  {m} {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Follow a local `$ref` (`#/components/...`), if `v` is one.
pub fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let target = r
                .strip_prefix('#')
                .and_then(|p| doc.pointer(p))
                .unwrap_or_else(|| panic!("{DOC}: unresolvable $ref {r}"));
            resolve(doc, target)
        }
        None => v,
    }
}

pub fn error_schema(doc: &Value) -> &Value {
    let s = &doc["components"]["schemas"]["Error"];
    assert!(s.is_object(), "{DOC}: components.schemas.Error is missing");
    s
}

/// The pointer (`/components/schemas/X`) of a local `$ref`.
pub fn ref_pointer(r: &str) -> String {
    let p = r
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("{DOC}: only local $refs are used, found {r}"));
    p.to_string()
}

/// The schema at `ptr`, following `$ref`s; and the pointer it was found at.
pub fn schema_at<'a>(doc: &'a Value, ptr: &str) -> (&'a Value, String) {
    let s = doc
        .pointer(ptr)
        .unwrap_or_else(|| panic!("{DOC}: nothing at {ptr}"));
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => schema_at(doc, &ref_pointer(r)),
        None => (s, ptr.to_string()),
    }
}

/// The document's schemas as a JSON Schema 2020-12 validator (the
/// `jsonschema` crate) sees them: one validator per schema pointer, each
/// built on a root that holds the document's `components` at the same place,
/// so every local `$ref` (`#/components/...`) resolves. OpenAPI's own
/// keywords (`discriminator`) are annotations to it; every format it knows is
/// asserted.
pub struct Schemas {
    components: Value,
    built: BTreeMap<String, jsonschema::Validator>,
}

impl Schemas {
    pub fn new(doc: &Value) -> Self {
        Self {
            components: doc["components"].clone(),
            built: BTreeMap::new(),
        }
    }

    pub fn validator(&mut self, ptr: &str) -> &jsonschema::Validator {
        let components = &self.components;
        self.built.entry(ptr.to_string()).or_insert_with(|| {
            let root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": format!("#{ptr}"),
                "components": components,
            });
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|e| panic!("{DOC}: the schema at {ptr} does not compile: {e}"))
        })
    }

    /// Check `v` against the schema at `ptr`. Problems go to `problems` with
    /// `at` (where in the value); the pointer of every declared property `v`
    /// has goes to `seen`: the `.../properties/<name>` units of the
    /// evaluation's hierarchical output, in the subschemas that held (so in
    /// the `oneOf`/`anyOf` branches that matched).
    pub fn check(
        &mut self,
        ptr: &str,
        v: &Value,
        at: &str,
        problems: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) {
        let evaluation = self.validator(ptr).evaluate(v);
        if !evaluation.flag().valid {
            for e in evaluation.iter_errors() {
                problems.push(format!(
                    "  {at}{}: {} (schema {})",
                    e.instance_location.as_str(),
                    e.error,
                    e.schema_location,
                ));
            }
            return;
        }
        fn held(unit: jsonschema::OutputUnit<'_>, seen: &mut BTreeSet<String>) {
            if !unit.valid() {
                return;
            }
            let location = unit.schema_location();
            if location
                .rsplit_once('/')
                .is_some_and(|(parent, name)| parent.ends_with("/properties") && !name.is_empty())
            {
                seen.insert(location.to_string());
            }
            for child in unit.children() {
                held(child, seen);
            }
        }
        held(evaluation.root(), seen);
    }
}

/// The pointer of every property the schema at `ptr` declares, nested ones
/// included (following `$ref`, `items` and the branches).
pub fn declared(
    doc: &Value,
    ptr: &str,
    out: &mut BTreeSet<String>,
    visited: &mut BTreeSet<String>,
) {
    let (schema, ptr) = schema_at(doc, ptr);
    if !visited.insert(ptr.clone()) {
        return;
    }
    for k in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.keys())
    {
        let p = format!("{ptr}/properties/{k}");
        out.insert(p.clone());
        declared(doc, &p, out, visited);
    }
    if schema.get("items").is_some() {
        declared(doc, &format!("{ptr}/items"), out, visited);
    }
    for kw in ["oneOf", "anyOf", "allOf"] {
        for i in 0..schema.get(kw).and_then(Value::as_array).map_or(0, Vec::len) {
            declared(doc, &format!("{ptr}/{kw}/{i}"), out, visited);
        }
    }
}

pub fn window_config() -> tobira::Config {
    let mut c = crate::support::test_config();
    c.migration_window = Some(("2026-11-01".into(), "2026-12-31".into()));
    c
}

/// The keys of an object (none if `v` is not one).
pub fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The strings of an array (none if `v` is not one).
pub fn strings(v: &Value) -> BTreeSet<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}
