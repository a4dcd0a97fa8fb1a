//! JSON Schema → TypeScript declarations, one namespace per tool provider.
//!
//! [`namespace_types`] turns the tools of one upstream (MCP `tools/list`
//! entries) into the declarations an agent programs against. The output is
//! one `declare namespace` holding, per tool, the named types of its input
//! (and output, when the tool has an `outputSchema`) and a function with
//! the tool's description as JSDoc:
//!
//! ```ts
//! declare namespace everything {
//!   type GetSumInput = {
//!     /** First number */
//!     a: number;
//!     /** Second number */
//!     b: number;
//!   };
//!   /**
//!    * Returns the sum of two numbers
//!    * @param input.a - First number
//!    * @param input.b - Second number
//!    */
//!   function get_sum(input: GetSumInput): Promise<unknown>;
//! }
//! ```
//!
//! Naming:
//! - a tool is called as `<namespace>.<ident>(input)`, where the ident is
//!   the tool name made an identifier by [`sanitize`]; two tools whose
//!   names give the same ident are an error;
//! - type names live in the namespace, so two namespaces in one prompt
//!   cannot collide: `<Ident>Input` and `<Ident>Output` in PascalCase, and
//!   for each definition a `$ref` reaches (`#/$defs/X`, `#/definitions/X`,
//!   `#/components/schemas/X`) the PascalCase of `X`; a name already taken
//!   gets a number (`Address2`). A definition that is the same in two tools
//!   is declared once;
//! - the input parameter is optional when the input schema requires
//!   nothing (`get_env(input?: GetEnvInput)`).
//!
//! Schemas: draft 7 and 2020-12 as MCP servers emit them, plus OpenAPI's
//! `nullable: true`. What has no TypeScript form (`not`, `if`, external
//! `$ref`s, a type alias that would be its own alias) is `unknown`; without
//! an `outputSchema` the result is `Promise<unknown>`.
//!
//! Upstream text is data: descriptions go into JSDoc with `*/` broken,
//! names and literals are JSON string literals, identifiers are sanitized,
//! so nothing an upstream sends can end a comment, a string or the
//! declaration it is in.

mod schema;
mod text;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use self::schema::{Generator, INDENT};
use self::text::{comment_lines, jsdoc, string_literal};
use crate::names::{NameError, check_identifier, is_identifier, pascal_case, sanitize};

/// One tool as an upstream describes it (MCP `tools/list` entry shape).
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct ToolSpec {
    /// The tool's name as the upstream knows it.
    pub name: String,
    /// What the tool does.
    #[serde(default)]
    pub description: Option<String>,
    /// JSON Schema of the tool's arguments (`null` if the upstream gave none).
    #[serde(default, rename = "inputSchema")]
    pub input_schema: Value,
    /// JSON Schema of the tool's structured result, if the upstream gave one.
    #[serde(default, rename = "outputSchema")]
    pub output_schema: Option<Value>,
}

/// The TypeScript view of one namespace (one upstream / provider).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceTypes {
    /// The identifier the namespace has in code.
    pub namespace: String,
    /// The tools, in input order.
    pub tools: Vec<ToolTypes>,
    /// The whole `declare namespace <ns> { ... }` block: every tool's types
    /// and function, ready to show an agent.
    pub declarations: String,
}

/// The TypeScript view of one tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolTypes {
    /// The original tool name from the upstream.
    pub name: String,
    /// The identifier it has in code: `<ns>.<ident>(input)`.
    pub ident: String,
    /// The tool's description, as the upstream sent it.
    pub description: Option<String>,
    /// This tool's own declaration, for search results: a
    /// `declare namespace <ns> { ... }` block with the types the tool uses
    /// (including shared definitions) and its function with JSDoc.
    pub declaration: String,
}

/// Why declarations could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypesError {
    /// The namespace name is not usable.
    #[error(transparent)]
    Namespace(#[from] NameError),
    /// Two tools' names become the same identifier.
    #[error(
        "tools {first:?} and {second:?} of namespace {namespace:?} both become {ident:?} in code; rename or drop one of them"
    )]
    Collision {
        /// The namespace.
        namespace: String,
        /// The identifier both names become.
        ident: String,
        /// The first tool's original name.
        first: String,
        /// The second tool's original name.
        second: String,
    },
}

/// Builds the declarations of a namespace's tools.
///
/// Errors if `namespace` is not a usable identifier (see
/// [`check_identifier`]) or if two tools sanitize to the same identifier.
pub fn namespace_types(namespace: &str, tools: &[ToolSpec]) -> Result<NamespaceTypes, TypesError> {
    check_identifier("namespace", namespace)?;
    let mut idents: Vec<String> = Vec::with_capacity(tools.len());
    let mut owners: HashMap<String, &str> = HashMap::new();
    for tool in tools {
        let ident = sanitize(&tool.name);
        if let Some(first) = owners.insert(ident.clone(), &tool.name) {
            return Err(TypesError::Collision {
                namespace: namespace.to_owned(),
                ident,
                first: first.to_owned(),
                second: tool.name.clone(),
            });
        }
        idents.push(ident);
    }

    let mut generator = Generator::new();
    // Tools' own type names first, so only definitions get numbered.
    let names: Vec<(String, Option<String>)> = tools
        .iter()
        .zip(&idents)
        .map(|(tool, ident)| {
            let stem = pascal_case(ident);
            let input = generator.reserve(&format!("{stem}Input"));
            let output = output_schema(tool).map(|_| generator.reserve(&format!("{stem}Output")));
            (input, output)
        })
        .collect();

    let any_object = serde_json::json!({ "type": "object" });
    let mut declared = HashSet::new();
    let mut body = String::new();
    let mut out = Vec::with_capacity(tools.len());
    for (i, ((tool, ident), (input_name, output_name))) in
        tools.iter().zip(&idents).zip(names).enumerate()
    {
        let input_schema = if tool.input_schema.is_null() {
            &any_object
        } else {
            &tool.input_schema
        };
        let doc = input_schema
            .get("description")
            .and_then(Value::as_str)
            .map(comment_lines)
            .unwrap_or_default();
        // Top-level fields are described once, by the function's `@param`
        // lines, not again on the input type's properties.
        let undocumented = without_property_descriptions(input_schema);
        let input = generator.root(
            input_name,
            undocumented.as_ref().unwrap_or(input_schema),
            &format!("{i}:input"),
            &doc,
        );
        let output = match (output_schema(tool), output_name) {
            (Some(schema), Some(name)) => {
                Some(generator.root(name, schema, &format!("{i}:output"), &[]))
            }
            _ => None,
        };
        let roots: Vec<usize> = std::iter::once(input).chain(output).collect();
        let function = function(
            tool,
            ident,
            input_schema,
            generator.name(input),
            output.map(|o| generator.name(o)),
        );

        let mut own = String::new();
        let mut group = String::new();
        for definition in generator.definitions(&roots) {
            own.push_str(generator.text(definition));
            if declared.insert(definition) {
                group.push_str(generator.text(definition));
            }
        }
        for root in &roots {
            own.push_str(generator.text(*root));
            group.push_str(generator.text(*root));
        }
        own.push_str(&function);
        group.push_str(&function);
        if i > 0 {
            body.push('\n');
        }
        body.push_str(&group);
        out.push(ToolTypes {
            name: tool.name.clone(),
            ident: ident.clone(),
            description: tool.description.clone(),
            declaration: wrap(namespace, &own),
        });
    }
    Ok(NamespaceTypes {
        namespace: namespace.to_owned(),
        tools: out,
        declarations: wrap(namespace, &body),
    })
}

/// `schema` with the descriptions of its own `properties` removed (`None`
/// if it has none to remove).
fn without_property_descriptions(schema: &Value) -> Option<Value> {
    let properties = schema.get("properties")?.as_object()?;
    if !properties.values().any(|p| p.get("description").is_some()) {
        return None;
    }
    let mut schema = schema.clone();
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for property in properties.values_mut() {
            if let Value::Object(property) = property {
                property.remove("description");
            }
        }
    }
    Some(schema)
}

/// The output schema, unless absent or `null`.
fn output_schema(tool: &ToolSpec) -> Option<&Value> {
    tool.output_schema.as_ref().filter(|s| !s.is_null())
}

fn wrap(namespace: &str, body: &str) -> String {
    format!("declare namespace {namespace} {{\n{body}}}\n")
}

/// A tool's function declaration with its JSDoc: the description, an
/// `@param input.<name>` per described top-level property, and `@returns`
/// when there is an output schema.
fn function(
    tool: &ToolSpec,
    ident: &str,
    input_schema: &Value,
    input: &str,
    output: Option<&str>,
) -> String {
    let mut doc = tool
        .description
        .as_deref()
        .map(comment_lines)
        .unwrap_or_default();
    let mut properties = Vec::new();
    top_properties(input_schema, input_schema, 0, &mut properties);
    for (name, schema) in properties {
        let lines = schema
            .get("description")
            .and_then(Value::as_str)
            .map(comment_lines)
            .unwrap_or_default();
        let Some((first, rest)) = lines.split_first() else {
            continue;
        };
        let path = if is_identifier(name) {
            format!("input.{name}")
        } else {
            format!("input[{}]", string_literal(name))
        };
        let path = comment_lines(&path).join(" ");
        doc.push(format!("@param {path} - {first}"));
        doc.extend(rest.iter().cloned());
    }
    if let Some(schema) = output_schema(tool) {
        let returns = schema
            .get("description")
            .and_then(Value::as_str)
            .map(comment_lines)
            .unwrap_or_default();
        if let Some((first, rest)) = returns.split_first() {
            doc.push(format!("@returns {first}"));
            doc.extend(rest.iter().cloned());
        }
    }
    let optional = if input_optional(input_schema) {
        "?"
    } else {
        ""
    };
    let output = output.unwrap_or("unknown");
    format!(
        "{}{INDENT}function {ident}(input{optional}: {input}): Promise<{output}>;\n",
        jsdoc(&doc, INDENT)
    )
}

/// The top-level properties of an input schema, following a `$ref` at the
/// top and `allOf`, each name once.
fn top_properties<'s>(
    root: &'s Value,
    schema: &'s Value,
    depth: usize,
    out: &mut Vec<(&'s str, &'s Value)>,
) {
    if depth > 8 {
        return;
    }
    if let Some(target) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| root.pointer(p))
    {
        top_properties(root, target, depth + 1, out);
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, schema) in properties {
            if !out.iter().any(|(n, _)| n == name) {
                out.push((name, schema));
            }
        }
    }
    for schema in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        top_properties(root, schema, depth + 1, out);
    }
}

/// Whether a call may leave out the input: the schema is absent, or a
/// plain object schema that requires nothing.
fn input_optional(schema: &Value) -> bool {
    match schema {
        Value::Null | Value::Bool(true) => true,
        Value::Object(map) => {
            let plain = ![
                "$ref", "allOf", "anyOf", "oneOf", "enum", "const", "nullable",
            ]
            .iter()
            .any(|k| map.contains_key(*k));
            let object = match map.get("type") {
                None => true,
                Some(Value::String(t)) => t == "object",
                Some(_) => false,
            };
            let requires = map
                .get("required")
                .and_then(Value::as_array)
                .is_some_and(|r| !r.is_empty());
            plain && object && !requires
        }
        _ => false,
    }
}
