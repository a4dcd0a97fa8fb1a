//! What an agent's context costs, classic MCP against Code Mode:
//! `cargo bench -p isola-mcp --bench tokens`.
//!
//! Counts tokens with a real tokenizer (OpenAI's `o200k_base`, vocabulary
//! shipped inside `tiktoken-rs`) for:
//! - **classic**: the upstreams' `tools/list` payload, every tool with its
//!   JSON Schema, which a classic MCP client puts in the model's context;
//! - **Code Mode**: isola's own `tools/list` (`search` + `execute`, whose
//!   description names every namespace and tool), plus what the agent then
//!   reads: one `search` answer (8 declarations), or, as an upper bound,
//!   every declaration.
//!
//! Tool sets: `@modelcontextprotocol/server-everything`'s real tool list
//! (the golden fixture of the types tests), and a generated OpenAPI-shaped
//! API of 15 resources × 6 operations. Prints a Markdown table for
//! BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::cast_precision_loss, missing_docs)]

use isola_codemode::ExecuteOptions;
use isola_codemode::types::{NamespaceTypes, ToolSpec, namespace_types};
use isola_mcp::{Listing, search, tool_definitions};
use serde_json::{Value, json};

struct ToolSet {
    label: &'static str,
    namespace: &'static str,
    tools: Vec<ToolSpec>,
    /// A query an agent would plausibly search with.
    query: &'static str,
}

fn everything() -> ToolSet {
    let fixture: Value = serde_json::from_str(include_str!(
        "../../codemode/testdata/types/everything.json"
    ))
    .unwrap();
    let tools = serde_json::from_value(fixture["tools"].clone()).unwrap();
    ToolSet {
        label: "server-everything (tests' upstream)",
        namespace: "everything",
        tools,
        query: "sum of two numbers",
    }
}

/// A REST API as an OpenAPI-to-MCP bridge exposes it: per resource, list,
/// get, create, update, delete and search, with realistic schemas.
fn openapi_shaped() -> ToolSet {
    const RESOURCES: [(&str, &str); 15] = [
        (
            "contact",
            "A person the organization has a relationship with",
        ),
        ("company", "An organization that contacts belong to"),
        ("deal", "A sales opportunity moving through a pipeline"),
        ("ticket", "A support request raised by a contact"),
        ("note", "A free-text note attached to another record"),
        ("task", "A to-do item assigned to a user"),
        ("user", "A member of the workspace"),
        ("team", "A group of users"),
        ("pipeline", "An ordered set of stages deals move through"),
        ("product", "An item the organization sells"),
        ("quote", "A priced offer sent to a contact"),
        ("invoice", "A bill issued to a company"),
        ("payment", "Money received against an invoice"),
        ("subscription", "A recurring charge for a product"),
        ("webhook", "An HTTP endpoint notified of record changes"),
    ];
    let fields = |resource: &str| {
        json!({
            "name": { "type": "string", "description": format!("Display name of the {resource}"), "maxLength": 200 },
            "status": { "type": "string", "enum": ["active", "archived", "pending", "deleted"], "description": "Lifecycle status" },
            "owner_id": { "type": "string", "format": "uuid", "description": "The user who owns this record" },
            "tags": { "type": "array", "items": { "type": "string" }, "description": "Free-form labels" },
            "amount": { "type": ["number", "null"], "description": "Monetary value in the account currency, if any" },
            "metadata": { "type": "object", "additionalProperties": { "type": "string" }, "description": "Custom key-value fields" },
            "address": {
                "type": "object",
                "description": "Postal address",
                "properties": {
                    "street": { "type": "string" }, "city": { "type": "string" },
                    "postal_code": { "type": "string" }, "country": { "type": "string", "description": "ISO 3166-1 alpha-2 code" }
                }
            },
            "created_at": { "type": "string", "format": "date-time", "description": "When it was created (read-only)" }
        })
    };
    let mut tools = Vec::new();
    for (resource, about) in RESOURCES {
        let plural = format!("{resource}s");
        let id = json!({ "type": "string", "description": format!("The {resource}'s id") });
        let page = json!({
            "page": { "type": "integer", "minimum": 1, "description": "Page number, from 1" },
            "per_page": { "type": "integer", "minimum": 1, "maximum": 100, "description": "Items per page (default 25)" },
            "sort": { "type": "string", "enum": ["created_at", "-created_at", "name", "-name"], "description": "Sort order" }
        });
        let mut list_props = page.as_object().unwrap().clone();
        list_props.insert("status".into(), json!({ "type": "string", "enum": ["active", "archived", "pending"], "description": "Only records with this status" }));
        list_props.insert(
            "owner_id".into(),
            json!({ "type": "string", "description": "Only records owned by this user" }),
        );
        let mut search_props = page.as_object().unwrap().clone();
        search_props.insert(
            "query".into(),
            json!({ "type": "string", "description": format!("Full-text query over {plural}") }),
        );
        let output = json!({ "type": "object", "properties": { "id": { "type": "string" } }, "additionalProperties": true });
        let ops = [
            (
                format!("list_{plural}"),
                format!("List {plural}. {about}."),
                json!({ "type": "object", "properties": list_props }),
            ),
            (
                format!("get_{resource}"),
                format!("Get one {resource} by id. {about}."),
                json!({ "type": "object", "properties": { "id": id }, "required": ["id"] }),
            ),
            (
                format!("create_{resource}"),
                format!("Create a {resource}. {about}."),
                json!({ "type": "object", "properties": fields(resource), "required": ["name"] }),
            ),
            (
                format!("update_{resource}"),
                format!("Update fields of a {resource}; omitted fields keep their value."),
                {
                    let mut props = fields(resource).as_object().unwrap().clone();
                    props.insert("id".into(), id.clone());
                    json!({ "type": "object", "properties": props, "required": ["id"] })
                },
            ),
            (
                format!("delete_{resource}"),
                format!("Delete a {resource}. This cannot be undone."),
                json!({ "type": "object", "properties": { "id": id }, "required": ["id"] }),
            ),
            (
                format!("search_{plural}"),
                format!("Search {plural} by text."),
                json!({ "type": "object", "properties": search_props, "required": ["query"] }),
            ),
        ];
        for (name, description, input) in ops {
            tools.push(ToolSpec {
                name,
                description: Some(description),
                input_schema: input,
                output_schema: Some(output.clone()),
            });
        }
    }
    ToolSet {
        label: "OpenAPI-shaped CRM API (generated, 90 operations)",
        namespace: "crm",
        tools,
        query: "create invoice for company",
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let bpe = tiktoken_rs::o200k_base().unwrap();
    let tokens = |text: &str| bpe.encode_with_special_tokens(text).len();
    let options = ExecuteOptions::default();

    println!("Tokens (o200k_base) an agent's context holds before and while using the tools.\n");
    println!(
        "| tool set | tools | classic `tools/list` | Code Mode `tools/list` | + one `search` (8 results) | saved | + every declaration (upper bound) | saved |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let sets = [everything(), openapi_shaped()];
    let mut all: Vec<(&str, Vec<ToolSpec>)> = Vec::new();
    for set in &sets {
        all.push((set.namespace, set.tools.clone()));
        row(
            set.label,
            &[(set.namespace, set.tools.clone())],
            set.query,
            &tokens,
            &options,
        );
    }
    row("both together", &all, "create invoice", &tokens, &options);
    println!(
        "\nCloudflare reports 81% fewer tokens for Code Mode (an agent building a typed-API program instead of calling tools one by one)."
    );
}

fn row(
    label: &str,
    sets: &[(&str, Vec<ToolSpec>)],
    query: &str,
    tokens: &dyn Fn(&str) -> usize,
    options: &ExecuteOptions,
) {
    let count: usize = sets.iter().map(|(_, t)| t.len()).sum();
    let classic_tools: Vec<Value> = sets
        .iter()
        .flat_map(|(_, tools)| tools.iter())
        .map(|t| {
            let mut tool = json!({ "name": t.name, "description": t.description, "inputSchema": t.input_schema });
            if let Some(output) = &t.output_schema {
                tool["outputSchema"] = output.clone();
            }
            tool
        })
        .collect();
    let classic = tokens(&serde_json::to_string(&json!({ "tools": classic_tools })).unwrap());

    let types: Vec<NamespaceTypes> = sets
        .iter()
        .map(|(ns, tools)| namespace_types(ns, tools).unwrap())
        .collect();
    let listings: Vec<Listing<'_>> = types
        .iter()
        .map(|t| Listing {
            types: t,
            error: None,
        })
        .collect();
    let definitions = tool_definitions(&listings, options);
    let code_mode = tokens(&serde_json::to_string(&json!({ "tools": definitions })).unwrap());
    let searched = code_mode + tokens(&search(query, &listings, 8));
    let everything = code_mode + types.iter().map(|t| tokens(&t.declarations)).sum::<usize>();
    let saved = |n: usize| format!("{:.0}%", 100.0 * (1.0 - n as f64 / classic as f64));
    println!(
        "| {label} | {count} | {classic} | {code_mode} | {searched} | **{}** | {everything} | {} |",
        saved(searched),
        saved(everything)
    );
}
