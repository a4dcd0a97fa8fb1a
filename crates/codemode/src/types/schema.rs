//! JSON Schema → TypeScript type expressions, with the named types that
//! `$ref`s to definitions become.
//!
//! One [`Generator`] serves a namespace: it hands out type names (unique in
//! the namespace), turns each root schema (a tool's input or output) into a
//! type alias, and turns every definition those reference
//! (`#/$defs/X`, `#/definitions/X`, `#/components/schemas/X`) into a type
//! alias of its own. Definitions that are the same in two tools (the same
//! schemas all the way down) become one type.
//!
//! Recursion: a reference to a named type is just its name, so recursive
//! definitions are recursive types. A type alias that would be its own
//! alias (`type A = B | null; type B = A`) is not valid TypeScript; the
//! reference that closes such a loop becomes `unknown`. Other references
//! (`#/properties/x`) are inlined, and one that loops becomes `unknown`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{DefaultHasher, Hasher};

use serde_json::{Map, Value};

use super::text::{comment_lines, jsdoc, property_key, string_literal};
use crate::names::pascal_case;

/// How deep one schema may nest before the rest is `unknown`.
const MAX_DEPTH: usize = 40;
/// How many definitions one definition may reach and still be shared
/// between tools.
const MAX_SHARED: usize = 64;
/// How many schemas one root may visit (inlined references can repeat
/// work) before the rest is `unknown`.
const MAX_WORK: usize = 200_000;
/// The widest an object type may be to stay on one line.
const INLINE_WIDTH: usize = 60;
/// The type of an object whose properties are not described.
const ANY_OBJECT: &str = "{ [key: string]: unknown }";
/// Indentation of declarations inside `declare namespace`.
pub(super) const INDENT: &str = "  ";

/// How tightly a type expression binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Union,
    Intersection,
    Atom,
}

/// A type expression.
#[derive(Debug, Clone, PartialEq)]
struct Ty {
    text: String,
    prec: Prec,
    /// The members of a union or intersection.
    parts: Vec<Ty>,
}

impl Ty {
    fn atom(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            prec: Prec::Atom,
            parts: Vec::new(),
        }
    }

    fn unknown() -> Self {
        Self::atom("unknown")
    }

    fn never() -> Self {
        Self::atom("never")
    }

    fn null() -> Self {
        Self::atom("null")
    }

    fn is(&self, text: &str) -> bool {
        self.text == text
    }

    /// The text, parenthesized if it binds more loosely than `prec`.
    fn at(&self, prec: Prec) -> String {
        if self.prec < prec {
            format!("({})", self.text)
        } else {
            self.text.clone()
        }
    }

    /// `A | B`: `unknown` absorbs, `never` vanishes, duplicates go.
    fn union(members: Vec<Ty>) -> Ty {
        let mut flat: Vec<Ty> = Vec::new();
        for member in members {
            let members = if member.prec == Prec::Union {
                member.parts
            } else {
                vec![member]
            };
            for member in members {
                if member.is("unknown") {
                    return Ty::unknown();
                }
                if !member.is("never") && !flat.iter().any(|m| m.text == member.text) {
                    flat.push(member);
                }
            }
        }
        match flat.len() {
            0 => Ty::never(),
            1 => flat.remove(0),
            _ => Ty {
                text: flat
                    .iter()
                    .map(|m| m.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" | "),
                prec: Prec::Union,
                parts: flat,
            },
        }
    }

    /// `A & B`: `unknown` vanishes (and so does "any object" next to
    /// something else), `never` absorbs, duplicates go.
    fn intersection(members: Vec<Ty>) -> Ty {
        let mut flat: Vec<Ty> = Vec::new();
        for member in members {
            let members = if member.prec == Prec::Intersection {
                member.parts
            } else {
                vec![member]
            };
            for member in members {
                if member.is("never") {
                    return Ty::never();
                }
                if !member.is("unknown") && !flat.iter().any(|m| m.text == member.text) {
                    flat.push(member);
                }
            }
        }
        if flat.len() > 1 {
            flat.retain(|m| !m.is(ANY_OBJECT));
        }
        match flat.len() {
            0 => Ty::unknown(),
            1 => flat.remove(0),
            _ => Ty {
                text: flat
                    .iter()
                    .map(|m| m.at(Prec::Intersection))
                    .collect::<Vec<_>>()
                    .join(" & "),
                prec: Prec::Intersection,
                parts: flat,
            },
        }
    }
}

/// A named type: a root (a tool's input or output) or a definition.
#[derive(Debug)]
struct Node {
    name: String,
    /// The declaration, indented for a namespace body, ending in a newline.
    text: String,
    /// Definitions this one's declaration names, in order of first use.
    deps: Vec<usize>,
    /// Named types this one's declaration is an alias of: those it names
    /// outside any object or array. These may not form a loop.
    aliases: Vec<usize>,
    definition: bool,
}

/// Named types for one namespace.
#[derive(Debug)]
pub(super) struct Generator {
    nodes: Vec<Node>,
    taken: HashSet<String>,
    /// Definition nodes by what they mean (see [`definition_key`]).
    by_key: HashMap<String, usize>,
    /// Definition nodes by root and pointer, to skip computing keys.
    by_pointer: HashMap<(String, String), usize>,
    /// Definitions named but not yet declared, with their pointers.
    pending: Vec<(usize, String)>,
    /// Schemas visited for the current root.
    work: usize,
}

impl Generator {
    pub(super) fn new() -> Self {
        Self {
            nodes: Vec::new(),
            // Used in the signatures inside the namespace.
            taken: HashSet::from(["Promise".to_owned()]),
            by_key: HashMap::new(),
            by_pointer: HashMap::new(),
            pending: Vec::new(),
            work: 0,
        }
    }

    /// A type name not used yet in the namespace: `stem`, else `stem2`, ...
    pub(super) fn reserve(&mut self, stem: &str) -> String {
        let mut name = stem.to_owned();
        let mut n = 1;
        while self.taken.contains(&name) {
            n += 1;
            name = format!("{stem}{n}");
        }
        self.taken.insert(name.clone());
        name
    }

    /// Declares `type <name> = <schema>` (with `doc` as its JSDoc) and the
    /// definitions it references; returns its node. `marker` names the root
    /// uniquely in the namespace.
    pub(super) fn root(
        &mut self,
        name: String,
        schema: &Value,
        marker: &str,
        doc: &[String],
    ) -> usize {
        self.work = 0;
        let node = self.nodes.len();
        self.nodes.push(Node {
            name,
            text: String::new(),
            deps: Vec::new(),
            aliases: Vec::new(),
            definition: false,
        });
        let ty = Body::new(self, (schema, node), marker, node).schema(schema, INDENT);
        self.declare(node, doc, &ty);
        while let Some((def, pointer)) = self.pending.pop() {
            let target = schema.pointer(&pointer).unwrap_or(&Value::Bool(true));
            let ty = Body::new(self, (schema, node), marker, def).schema(target, INDENT);
            let doc = target
                .get("description")
                .and_then(Value::as_str)
                .map(comment_lines)
                .unwrap_or_default();
            self.declare(def, &doc, &ty);
        }
        node
    }

    fn declare(&mut self, node: usize, doc: &[String], ty: &Ty) {
        let node = &mut self.nodes[node];
        node.text = format!(
            "{}{INDENT}type {} = {};\n",
            jsdoc(doc, INDENT),
            node.name,
            ty.text
        );
    }

    /// The name of a node.
    pub(super) fn name(&self, node: usize) -> &str {
        &self.nodes[node].name
    }

    /// The declaration of a node.
    pub(super) fn text(&self, node: usize) -> &str {
        &self.nodes[node].text
    }

    /// The definitions `roots` need, directly or not, each once, in order
    /// of first use.
    pub(super) fn definitions(&self, roots: &[usize]) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack: Vec<usize> = roots.iter().rev().copied().collect();
        let mut seen = HashSet::new();
        while let Some(node) = stack.pop() {
            if !seen.insert(node) {
                continue;
            }
            if self.nodes[node].definition {
                out.push(node);
            }
            stack.extend(self.nodes[node].deps.iter().rev());
        }
        out
    }

    /// The node for the definition at `pointer` in `root`, named and queued
    /// for declaration if new.
    fn definition(&mut self, root: &Value, marker: &str, pointer: &str) -> usize {
        let local = (marker.to_owned(), pointer.to_owned());
        if let Some(&node) = self.by_pointer.get(&local) {
            return node;
        }
        let key = definition_key(root, marker, pointer);
        let node = match self.by_key.get(&key) {
            Some(&node) => node,
            None => {
                let last = pointer.rsplit('/').next().unwrap_or_default();
                let last = last.replace("~1", "/").replace("~0", "~");
                let name = self.reserve(&pascal_case(&last));
                let node = self.nodes.len();
                self.nodes.push(Node {
                    name,
                    text: String::new(),
                    deps: Vec::new(),
                    aliases: Vec::new(),
                    definition: true,
                });
                self.by_key.insert(key, node);
                self.pending.push((node, pointer.to_owned()));
                node
            }
        };
        self.by_pointer.insert(local, node);
        node
    }

    /// Whether `to` is `from` or one of the types `from` is an alias of.
    fn aliases(&self, from: usize, to: usize) -> bool {
        let mut stack = vec![from];
        let mut seen = HashSet::new();
        while let Some(node) = stack.pop() {
            if node == to {
                return true;
            }
            if seen.insert(node) {
                stack.extend(&self.nodes[node].aliases);
            }
        }
        false
    }
}

/// Whether a JSON pointer names a definition: `/$defs/X`, `/definitions/X`
/// or `/components/schemas/X`.
fn is_definition(pointer: &str) -> bool {
    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
    match segments.as_slice() {
        ["$defs" | "definitions", name] | ["components", "schemas", name] => !name.is_empty(),
        _ => false,
    }
}

/// What a definition means: its schema and those of the definitions it
/// reaches (hashed), so equal definitions in two tools' schemas share one
/// type. If it reaches the root or a part of it other than definitions, or
/// too many definitions to compare cheaply, it means something only in
/// that root, and the key says which.
fn definition_key(root: &Value, marker: &str, pointer: &str) -> String {
    let local = || format!("in {marker}: {pointer}");
    let mut reached: BTreeMap<&str, &Value> = BTreeMap::new();
    let mut seen: HashSet<&str> = HashSet::from([pointer]);
    let mut stack = vec![pointer];
    let mut escapes = false;
    while let Some(next) = stack.pop() {
        let Some(schema) = root.pointer(next) else {
            continue;
        };
        reached.insert(next, schema);
        references(schema, 0, &mut |reference| {
            let Some(target) = reference.strip_prefix('#') else {
                return; // elsewhere: `unknown` in every root
            };
            if !is_definition(target) {
                escapes = true;
            } else if seen.insert(target) {
                stack.push(target);
            }
        });
        if escapes || seen.len() > MAX_SHARED {
            return local();
        }
    }
    let mut hasher = HashWriter(DefaultHasher::new());
    // Writing to a hasher cannot fail.
    let _ = serde_json::to_writer(&mut hasher, &(pointer, &reached));
    format!("shared: {:016x}", hasher.0.finish())
}

/// Feeds what is written to a hasher.
struct HashWriter(DefaultHasher);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.write(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Calls `found` with every `$ref` in `value`.
fn references<'v>(value: &'v Value, depth: usize, found: &mut impl FnMut(&'v str)) {
    if depth > MAX_DEPTH * 2 {
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                found(reference);
            }
            for value in map.values() {
                references(value, depth + 1, found);
            }
        }
        Value::Array(values) => {
            for value in values {
                references(value, depth + 1, found);
            }
        }
        _ => {}
    }
}

/// Rendering one named type's body.
struct Body<'g, 's> {
    generator: &'g mut Generator,
    root: &'s Value,
    marker: &'g str,
    /// The root's node, for `#`.
    root_node: usize,
    /// The node being declared.
    node: usize,
    /// Inside an object or array: a named type used here is not aliased.
    guarded: bool,
    /// Pointers being inlined.
    inlining: Vec<String>,
    depth: usize,
}

impl<'g, 's> Body<'g, 's> {
    fn new(
        generator: &'g mut Generator,
        root: (&'s Value, usize),
        marker: &'g str,
        node: usize,
    ) -> Self {
        let (root, root_node) = root;
        Self {
            generator,
            root,
            marker,
            root_node,
            node,
            guarded: false,
            inlining: Vec::new(),
            depth: 0,
        }
    }

    /// The type of `schema`, laid out as if starting on a line at `indent`.
    fn schema(&mut self, schema: &Value, indent: &str) -> Ty {
        let map = match schema {
            Value::Bool(false) => return Ty::never(),
            Value::Object(map) if self.depth < MAX_DEPTH && self.generator.work < MAX_WORK => map,
            _ => return Ty::unknown(),
        };
        self.generator.work += 1;
        self.depth += 1;
        let ty = self.object_schema(map, indent);
        self.depth -= 1;
        ty
    }

    fn object_schema(&mut self, map: &Map<String, Value>, indent: &str) -> Ty {
        let mut parts = Vec::new();
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            parts.push(self.reference(reference, indent));
        }
        let null = Ty::union(
            type_names(map)
                .into_iter()
                .filter(|t| *t == "null")
                .map(|_| Ty::null())
                .collect(),
        );
        if let Some(value) = map.get("const") {
            parts.push(Ty::union(vec![literal(value, 0), null]));
        } else if let Some(Value::Array(values)) = map.get("enum") {
            let mut members: Vec<Ty> = values.iter().map(|v| literal(v, 0)).collect();
            if !values.is_empty() {
                members.push(null);
            }
            parts.push(Ty::union(members));
        } else if let Some(ty) = self.typed(map, indent) {
            parts.push(ty);
        }
        if let Some(Value::Array(schemas)) = map.get("allOf") {
            for schema in schemas {
                parts.push(self.schema(schema, indent));
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(schemas)) = map.get(key) {
                let members = schemas.iter().map(|s| self.schema(s, indent)).collect();
                parts.push(Ty::union(members));
            }
        }
        let ty = Ty::intersection(parts);
        if map.get("nullable") == Some(&Value::Bool(true)) {
            Ty::union(vec![ty, Ty::null()])
        } else {
            ty
        }
    }

    /// The type from `type` (or, without it, from object or array keywords).
    fn typed(&mut self, map: &Map<String, Value>, indent: &str) -> Option<Ty> {
        let mut names = type_names(map);
        if names.is_empty() && !map.contains_key("type") {
            if ["properties", "additionalProperties", "patternProperties"]
                .iter()
                .any(|k| map.contains_key(*k))
            {
                names.push("object");
            } else if map.contains_key("items") || map.contains_key("prefixItems") {
                names.push("array");
            }
        }
        if names.is_empty() {
            return None;
        }
        let members = names
            .into_iter()
            .map(|name| match name {
                "string" => Ty::atom("string"),
                "number" | "integer" => Ty::atom("number"),
                "boolean" => Ty::atom("boolean"),
                "null" => Ty::null(),
                "array" => self.guarded(|body| body.array(map, indent)),
                "object" => self.guarded(|body| body.object(map, indent)),
                _ => Ty::unknown(),
            })
            .collect();
        Some(Ty::union(members))
    }

    fn guarded(&mut self, render: impl FnOnce(&mut Self) -> Ty) -> Ty {
        let was = std::mem::replace(&mut self.guarded, true);
        let ty = render(self);
        self.guarded = was;
        ty
    }

    fn object(&mut self, map: &Map<String, Value>, indent: &str) -> Ty {
        let inner = format!("{indent}{INDENT}");
        let properties = map.get("properties").and_then(Value::as_object);
        let required: Vec<&str> = match map.get("required") {
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut members: Vec<(Vec<String>, String)> = Vec::new();
        for (name, schema) in properties.into_iter().flatten() {
            let optional = if required.contains(&name.as_str()) {
                ""
            } else {
                "?"
            };
            let ty = self.schema(schema, &inner);
            members.push((
                property_doc(schema),
                format!("{}{optional}: {}", property_key(name), ty.text),
            ));
        }
        let mut extra: Vec<&str> = Vec::new();
        for name in required {
            if !properties.is_some_and(|p| p.contains_key(name)) && !extra.contains(&name) {
                extra.push(name);
                members.push((Vec::new(), format!("{}: unknown", property_key(name))));
            }
        }
        let mut values = Vec::new();
        match map.get("additionalProperties") {
            Some(Value::Bool(true)) => values.push(Ty::unknown()),
            Some(schema @ Value::Object(_)) => values.push(self.schema(schema, &inner)),
            _ => {}
        }
        if let Some(Value::Object(patterns)) = map.get("patternProperties") {
            for schema in patterns.values() {
                values.push(self.schema(schema, &inner));
            }
        }
        let index = (!values.is_empty())
            .then(|| Ty::union(values))
            .filter(|t| !t.is("never"));
        match index {
            None if members.is_empty() => {
                let closed = properties.is_some()
                    || map.get("additionalProperties") == Some(&Value::Bool(false));
                Ty::atom(if closed { "{}" } else { ANY_OBJECT })
            }
            None => Ty::atom(block(&members, indent)),
            Some(index) if members.is_empty() || index.is("unknown") => {
                members.push((Vec::new(), format!("[key: string]: {}", index.text)));
                Ty::atom(block(&members, indent))
            }
            Some(index) => {
                let rest = vec![(Vec::new(), format!("[key: string]: {}", index.text))];
                Ty::intersection(vec![
                    Ty::atom(block(&members, indent)),
                    Ty::atom(block(&rest, indent)),
                ])
            }
        }
    }

    fn array(&mut self, map: &Map<String, Value>, indent: &str) -> Ty {
        let (elements, rest) = match (map.get("prefixItems"), map.get("items")) {
            (Some(Value::Array(elements)), rest) => (elements, rest),
            (_, Some(Value::Array(elements))) => (elements, map.get("additionalItems")),
            (_, Some(items)) => {
                let item = self.schema(items, indent);
                return Ty::atom(if item.is("never") {
                    "[]".to_owned()
                } else {
                    format!("{}[]", item.at(Prec::Atom))
                });
            }
            (_, None) => return Ty::atom("unknown[]"),
        };
        let min = map.get("minItems").and_then(Value::as_u64);
        let mut parts = Vec::new();
        for (i, element) in elements.iter().enumerate() {
            let ty = self.schema(element, indent);
            if min.is_some_and(|min| (i as u64) >= min) {
                parts.push(format!("{}?", ty.at(Prec::Atom)));
            } else {
                parts.push(ty.text);
            }
        }
        if let Some(rest) = rest.filter(|r| **r != Value::Bool(false)) {
            let ty = self.schema(rest, indent);
            if !ty.is("never") {
                parts.push(format!("...{}[]", ty.at(Prec::Atom)));
            }
        }
        Ty::atom(format!("[{}]", parts.join(", ")))
    }

    fn reference(&mut self, reference: &str, indent: &str) -> Ty {
        if reference == "#" {
            return self.link(self.root_node);
        }
        let Some(pointer) = reference.strip_prefix('#') else {
            return Ty::unknown();
        };
        let Some(target) = self.root.pointer(pointer) else {
            return Ty::unknown();
        };
        if is_definition(pointer) {
            let node = self.generator.definition(self.root, self.marker, pointer);
            return self.link(node);
        }
        if self.inlining.iter().any(|p| p == pointer) {
            return Ty::unknown();
        }
        self.inlining.push(pointer.to_owned());
        let ty = self.schema(target, indent);
        self.inlining.pop();
        ty
    }

    /// A use of a named type.
    fn link(&mut self, target: usize) -> Ty {
        if !self.guarded {
            if self.generator.aliases(target, self.node) {
                return Ty::unknown();
            }
            self.generator.nodes[self.node].aliases.push(target);
        }
        let generator = &mut *self.generator;
        if generator.nodes[target].definition && !generator.nodes[self.node].deps.contains(&target)
        {
            generator.nodes[self.node].deps.push(target);
        }
        Ty::atom(generator.nodes[target].name.clone())
    }
}

/// The names in `type` (a string or an array of strings).
fn type_names(map: &Map<String, Value>) -> Vec<&str> {
    match map.get("type") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The literal type of a JSON value (for `const` and `enum`).
fn literal(value: &Value, depth: usize) -> Ty {
    if depth > MAX_DEPTH {
        return Ty::unknown();
    }
    Ty::atom(match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_literal(s),
        Value::Array(values) => {
            let values: Vec<String> = values.iter().map(|v| literal(v, depth + 1).text).collect();
            format!("[{}]", values.join(", "))
        }
        Value::Object(map) if map.is_empty() => "{}".to_owned(),
        Value::Object(map) => {
            let members: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", property_key(k), literal(v, depth + 1).text))
                .collect();
            format!("{{ {} }}", members.join("; "))
        }
    })
}

/// The JSDoc lines of a property: its description, then `@deprecated`,
/// `@format` and `@default` as given.
pub(super) fn property_doc(schema: &Value) -> Vec<String> {
    let Some(map) = schema.as_object() else {
        return Vec::new();
    };
    let mut lines = map
        .get("description")
        .and_then(Value::as_str)
        .map(comment_lines)
        .unwrap_or_default();
    if map.get("deprecated") == Some(&Value::Bool(true)) {
        lines.push("@deprecated".to_owned());
    }
    if let Some(format) = map.get("format").and_then(Value::as_str) {
        lines.push(format!("@format {}", comment_lines(format).join(" ")));
    }
    if let Some(default) = map.get("default") {
        let json = default
            .to_string()
            .replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029");
        if json.len() <= 80 {
            lines.push(format!("@default {}", comment_lines(&json).join(" ")));
        }
    }
    lines
}

/// An object type of `members` (JSDoc lines, member text): on one line if
/// short and undocumented, else one member per line.
fn block(members: &[(Vec<String>, String)], indent: &str) -> String {
    if members.is_empty() {
        return "{}".to_owned();
    }
    let undocumented = members
        .iter()
        .all(|(doc, text)| doc.is_empty() && !text.contains('\n'));
    let width: usize = members.iter().map(|(_, text)| text.len() + 2).sum();
    if undocumented && width <= INLINE_WIDTH {
        let texts: Vec<&str> = members.iter().map(|(_, text)| text.as_str()).collect();
        return format!("{{ {} }}", texts.join("; "));
    }
    let inner = format!("{indent}{INDENT}");
    let mut out = "{\n".to_owned();
    for (doc, text) in members {
        out.push_str(&jsdoc(doc, &inner));
        out.push_str(&format!("{inner}{text};\n"));
    }
    out.push_str(indent);
    out.push('}');
    out
}
