//! The two tools an agent sees, as `tools/list` describes them.
//!
//! Their descriptions name each namespace and its tools (so an agent knows
//! what exists without a search) but carry no types: those come from
//! `search`, a few at a time. This is where Code Mode saves its tokens.

use isola_codemode::ExecuteOptions;
use rmcp::model::Tool;
use serde_json::json;

use crate::search::{self, Listing};

/// `search` and `execute`, describing `namespaces` and the limits of a run.
pub fn tool_definitions(namespaces: &[Listing<'_>], options: &ExecuteOptions) -> Vec<Tool> {
    let mut listed = String::new();
    for namespace in namespaces {
        let tools: Vec<&str> = namespace
            .types
            .tools
            .iter()
            .map(|t| t.ident.as_str())
            .collect();
        match namespace.error {
            Some(error) if tools.is_empty() => {
                listed.push_str(&format!(
                    "\n- {} (unavailable: {})",
                    namespace.types.namespace,
                    search::one_line(error)
                ));
            }
            _ => listed.push_str(&format!(
                "\n- {}: {}",
                namespace.types.namespace,
                tools.join(", ")
            )),
        }
    }
    if listed.is_empty() {
        listed.push_str("\n(none configured)");
    }
    let search_tool = Tool::new(
        "search",
        "Find the tools `execute` can call (namespaces are listed in its description). Answers with their \
         TypeScript declarations and docs, best match first; an empty query lists every tool.",
        object(json!({
            "type": "object",
            "properties": {
                "query": { "type": "string", "description": "Words to look for in tool names and descriptions" },
                "limit": { "type": "integer", "minimum": 1, "maximum": search::MAX_LIMIT, "description": "Most results (default 8)" }
            },
            "required": ["query"]
        })),
    );
    let execute_tool = Tool::new(
        "execute",
        format!(
            "Run a short program that calls the tools below, in a fresh sandbox, and get back what it returns.\n\n\
             Write an async arrow function in JavaScript or TypeScript, e.g.\n\
             async () => {{ const r = await ns.tool({{ ... }}); return r; }}\n\
             Each namespace is a global; every tool takes one object and returns a promise. Use `search` to read \
             their types first. Combine several calls in one program (Promise.all for independent ones) and return \
             only what you need. console.log output comes back as `logs`. There is no network access; limits: \
             {} ms CPU, {} ms wall time, {} tool calls per run.\n\nNamespaces:{listed}",
            options.cpu_ms, options.wall_ms, options.max_tool_calls
        ),
        object(json!({
            "type": "object",
            "properties": {
                "code": { "type": "string", "description": "An async arrow function (JavaScript or TypeScript) that returns the result" }
            },
            "required": ["code"]
        })),
    );
    vec![search_tool, execute_tool]
}

fn object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}
