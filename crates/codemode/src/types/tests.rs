//! Golden files and properties of the generated declarations.
//!
//! Each `testdata/types/<case>.json` (`{"namespace": ..., "tools": [...]}`)
//! must give exactly `testdata/types/<case>.d.ts`. To regenerate the
//! expected files after a deliberate change, run
//!
//! ```sh
//! UPDATE_GOLDEN=1 cargo test -p isola-codemode --lib types
//! ```
//!
//! and review the diff. Every output (the namespace and each tool's own
//! declaration) must also parse as TypeScript with oxc, with no semantic
//! errors, as exactly one `declare namespace` holding type aliases and the
//! expected functions: that is what keeps hostile upstream text inside the
//! comments and strings it was put in.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use oxc::allocator::Allocator;
use oxc::ast::ast::{
    Statement, TSLiteral, TSNamespaceDeclarationBody, TSSignature, TSTupleElement, TSType,
};
use oxc::parser::Parser;
use oxc::semantic::SemanticBuilder;
use oxc::span::SourceType;
use serde_json::json;

use super::*;

#[derive(serde::Deserialize)]
struct Case {
    namespace: String,
    tools: Vec<ToolSpec>,
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/types")
}

/// What oxc sees in generated declarations.
#[derive(Debug, Default)]
struct Parsed {
    types: Vec<String>,
    functions: Vec<String>,
    strings: Vec<String>,
    keys: Vec<String>,
    comments: Vec<String>,
}

/// Parses generated declarations as `.d.ts` and `.ts`, checking that they
/// are one `declare namespace <namespace>` of type aliases and functions.
fn parse(source: &str, namespace: &str) -> Parsed {
    let mut result = Parsed::default();
    for source_type in [SourceType::d_ts(), SourceType::ts().with_module(true)] {
        let allocator = Allocator::default();
        let parsed = Parser::new(&allocator, source, source_type).parse();
        let errors: Vec<String> = parsed
            .diagnostics
            .errors()
            .map(|e| e.message.to_string())
            .collect();
        assert!(
            !parsed.panicked && errors.is_empty(),
            "{errors:?} in\n{source}"
        );
        let semantic = SemanticBuilder::new()
            .with_check_syntax_error(true)
            .build(&parsed.program);
        let errors: Vec<String> = semantic
            .diagnostics
            .errors()
            .map(|e| e.message.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?} in\n{source}");

        let program = &parsed.program;
        assert_eq!(program.body.len(), 1, "one statement in\n{source}");
        let Statement::TSNamespaceDeclaration(declaration) = &program.body[0] else {
            panic!("not a namespace:\n{source}")
        };
        assert!(declaration.declare);
        assert_eq!(declaration.id.name.as_str(), namespace);
        let TSNamespaceDeclarationBody::TSModuleBlock(block) = &declaration.body else {
            panic!("no block")
        };
        let mut parsed_result = Parsed::default();
        for statement in &block.body {
            match statement {
                Statement::TSTypeAliasDeclaration(alias) => {
                    parsed_result.types.push(alias.id.name.to_string());
                    walk(&alias.type_annotation, &mut parsed_result);
                }
                Statement::FunctionDeclaration(function) => {
                    assert!(function.body.is_none());
                    parsed_result
                        .functions
                        .push(function.id.as_ref().unwrap().name.to_string());
                    for param in &function.params.items {
                        walk(
                            &param.type_annotation.as_ref().unwrap().type_annotation,
                            &mut parsed_result,
                        );
                    }
                }
                other => panic!("unexpected statement {other:?}"),
            }
        }
        parsed_result.comments = program
            .comments
            .iter()
            .map(|c| c.content_span().source_text(source).to_owned())
            .collect();
        result = parsed_result;
    }
    result
}

/// Collects string literal types and property names.
fn walk(ty: &TSType<'_>, out: &mut Parsed) {
    match ty {
        TSType::TSLiteralType(literal) => {
            if let TSLiteral::StringLiteral(s) = &literal.literal {
                out.strings.push(s.value.to_string());
            }
        }
        TSType::TSUnionType(union) => union.types.iter().for_each(|t| walk(t, out)),
        TSType::TSIntersectionType(i) => i.types.iter().for_each(|t| walk(t, out)),
        TSType::TSParenthesizedType(p) => walk(&p.type_annotation, out),
        TSType::TSArrayType(a) => walk(&a.element_type, out),
        TSType::TSTupleType(tuple) => {
            for element in &tuple.element_types {
                match element {
                    TSTupleElement::TSOptionalType(o) => walk(&o.type_annotation, out),
                    TSTupleElement::TSRestType(r) => walk(&r.type_annotation, out),
                    other => walk(other.as_ts_type().unwrap(), out),
                }
            }
        }
        TSType::TSTypeLiteral(literal) => {
            for member in &literal.members {
                match member {
                    TSSignature::TSPropertySignature(p) => {
                        out.keys.push(p.key.static_name().unwrap().to_string());
                        walk(&p.type_annotation.as_ref().unwrap().type_annotation, out);
                    }
                    TSSignature::TSIndexSignature(i) => {
                        walk(&i.type_annotation.type_annotation, out)
                    }
                    other => panic!("unexpected member {other:?}"),
                }
            }
        }
        _ => {}
    }
}

/// Checks everything generated for a namespace parses as it should.
fn check(types: &NamespaceTypes) -> Parsed {
    let parsed = parse(&types.declarations, &types.namespace);
    let idents: Vec<&str> = types.tools.iter().map(|t| t.ident.as_str()).collect();
    assert_eq!(parsed.functions, idents);
    for tool in &types.tools {
        let own = parse(&tool.declaration, &types.namespace);
        assert_eq!(own.functions, [tool.ident.as_str()]);
        for name in &own.types {
            assert!(
                parsed.types.contains(name),
                "{name} of {} is not in the namespace",
                tool.ident
            );
        }
    }
    parsed
}

#[test]
fn golden() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "golden cases missing");
    let mut stale = Vec::new();
    for path in cases {
        let case: Case = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let types = namespace_types(&case.namespace, &case.tools)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check(&types);
        let expected_path = path.with_extension("d.ts");
        if update {
            std::fs::write(&expected_path, &types.declarations).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != types.declarations {
            eprintln!(
                "--- {} (expected)\n{expected}\n+++ actual\n{}",
                expected_path.display(),
                types.declarations
            );
            stale.push(expected_path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "golden files differ (UPDATE_GOLDEN=1 to rewrite): {stale:?}"
    );
}

fn tool(name: &str, input: Value) -> ToolSpec {
    ToolSpec {
        name: name.to_owned(),
        description: None,
        input_schema: input,
        output_schema: None,
    }
}

/// The declaration of the first tool's input type.
fn input_type(input: Value) -> String {
    let types = namespace_types("ns", &[tool("t", input)]).unwrap();
    check(&types);
    let text = &types.declarations;
    let start = text.find("  type TInput = ").unwrap() + "  type TInput = ".len();
    let end = start
        + text[start..]
            .find(";\n  function")
            .or_else(|| text[start..].find(";\n"))
            .unwrap();
    text[start..end].to_owned()
}

#[test]
fn schema_features() {
    let cases = [
        (json!({"type": "object", "properties": {}}), "{}"),
        (json!({"type": "object"}), "{ [key: string]: unknown }"),
        (json!({}), "unknown"),
        (json!(true), "unknown"),
        (json!(false), "never"),
        (
            json!({"type": "object", "properties": {"a": {"type": ["string", "null"]}}}),
            "{ a?: string | null }",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "integer", "nullable": true}}, "required": ["a"]}),
            "{ a: number | null }",
        ),
        (
            json!({"properties": {"a": {"enum": ["x", 1, null, true]}}}),
            "{ a?: \"x\" | 1 | null | true }",
        ),
        (
            json!({"properties": {"a": {"type": ["string", "null"], "enum": ["x"]}}}),
            "{ a?: \"x\" | null }",
        ),
        (
            json!({"properties": {"a": {"const": {"k": [1, "v"]}}}}),
            "{ a?: { k: [1, \"v\"] } }",
        ),
        (json!({"properties": {"a": {"enum": []}}}), "{ a?: never }"),
        (
            json!({"properties": {"a": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "number"}]}}}}),
            "{ a?: (string | number)[] }",
        ),
        (
            json!({"properties": {"a": {"type": "array"}}}),
            "{ a?: unknown[] }",
        ),
        (
            json!({"properties": {"a": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "items": false}}}),
            "{ a?: [string, number] }",
        ),
        (
            json!({"properties": {"a": {"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "boolean"}}}}),
            "{ a?: [string, ...boolean[]] }",
        ),
        (
            json!({"properties": {"a": {"type": "array", "items": [{"type": "string"}, {"type": ["number", "null"]}], "minItems": 1}}}),
            "{ a?: [string, (number | null)?] }",
        ),
        (
            json!({"properties": {"a": {"type": "array", "items": [{"type": "string"}], "additionalItems": {"type": "number"}}}}),
            "{ a?: [string, ...number[]] }",
        ),
        (
            json!({"additionalProperties": {"type": "number"}}),
            "{ [key: string]: number }",
        ),
        (
            json!({"properties": {"a": {"type": "string"}}, "additionalProperties": true}),
            "{ a?: string; [key: string]: unknown }",
        ),
        (
            json!({"properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "number"}}),
            "{ a?: string } & { [key: string]: number }",
        ),
        (
            json!({"type": "object", "additionalProperties": false}),
            "{}",
        ),
        (
            json!({"type": "object", "patternProperties": {"^x": {"type": "string"}}}),
            "{ [key: string]: string }",
        ),
        (
            json!({"type": "object", "required": ["a"]}),
            "{ a: unknown }",
        ),
        (
            json!({"properties": {"a b": {"type": "string"}, "\"": {}}}),
            "{ \"a b\"?: string; \"\\\"\"?: unknown }",
        ),
        (
            json!({"allOf": [{"properties": {"a": {"type": "string"}}}, {"properties": {"b": {"type": "number"}}}]}),
            "{ a?: string } & { b?: number }",
        ),
        (
            json!({"type": "object", "oneOf": [{"properties": {"a": {"type": "string"}}}, {"properties": {"b": {"anyOf": [{"type": "string"}, {"not": {}}]}}}]}),
            "{ a?: string } | { b?: unknown }",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "anyOf": [{"required": ["a"]}, {"required": ["b"]}]}),
            "{ a?: string }",
        ),
        (
            json!({"properties": {"a": {"allOf": [{"anyOf": [{"type": "string"}, {"type": "number"}]}, {"anyOf": [{"type": "string"}, {"type": "boolean"}]}]}}}),
            "{ a?: (string | number) & (string | boolean) }",
        ),
        (
            json!({"properties": {"a": {"$ref": "https://example.com/x.json"}}}),
            "{ a?: unknown }",
        ),
        (
            json!({"properties": {"a": {"$ref": "#/nowhere"}}}),
            "{ a?: unknown }",
        ),
        (
            json!({"properties": {"a": {"type": "number"}, "b": {"$ref": "#/properties/a"}}}),
            "{ a?: number; b?: number }",
        ),
        (
            json!({"properties": {"a": {"$ref": "#/properties/a"}}}),
            "{ a?: unknown }",
        ),
        (
            json!({"properties": {"a": {"type": "object", "properties": {"b": {"$ref": "#/properties/a"}}}}}),
            "{ a?: { b?: { b?: unknown } } }",
        ),
        (
            json!({"properties": {"a": {"type": "array", "items": {"const": -1}}}}),
            "{ a?: -1[] }",
        ),
    ];
    for (schema, want) in cases {
        assert_eq!(input_type(schema.clone()), want, "{schema}");
    }
}

#[test]
fn recursive_definitions() {
    // A recursive definition is a recursive type.
    let tree = json!({"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object", "properties": {
        "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}}});
    let types = namespace_types("ns", &[tool("t", tree)]).unwrap();
    check(&types);
    assert!(
        types.declarations.contains("type TInput = Node;"),
        "{}",
        types.declarations
    );
    assert!(
        types
            .declarations
            .contains("type Node = { children?: Node[] };"),
        "{}",
        types.declarations
    );

    // Aliases that loop: the reference closing the loop is `unknown`.
    let loop_ = json!({"properties": {"a": {"$ref": "#/definitions/A"}}, "definitions": {
        "A": {"anyOf": [{"$ref": "#/definitions/B"}, {"type": "null"}]},
        "B": {"$ref": "#/definitions/A"}}});
    let types = namespace_types("ns", &[tool("t", loop_)]).unwrap();
    check(&types);
    assert!(
        types.declarations.contains("type A = B | null;"),
        "{}",
        types.declarations
    );
    assert!(
        types.declarations.contains("type B = unknown;"),
        "{}",
        types.declarations
    );

    // `#` is the input type itself.
    let root =
        json!({"properties": {"next": {"$ref": "#"}}, "anyOf": [{"$ref": "#"}, {"type": "null"}]});
    let types = namespace_types("ns", &[tool("t", root)]).unwrap();
    check(&types);
    assert!(
        types
            .declarations
            .contains("type TInput = { next?: TInput };"),
        "{}",
        types.declarations
    );
}

#[test]
fn shared_definitions_are_declared_once() {
    let address = json!({"type": "object", "properties": {"city": {"type": "string"}}});
    let other = json!({"type": "object", "properties": {"zip": {"type": "string"}}});
    let with = |def: &Value| json!({"properties": {"a": {"$ref": "#/$defs/Address"}}, "$defs": {"Address": def}});
    let tools = [
        tool("one", with(&address)),
        tool("two", with(&address)),
        tool("three", with(&other)),
    ];
    let types = namespace_types("ns", &tools).unwrap();
    let parsed = check(&types);
    assert_eq!(
        parsed.types,
        ["Address", "OneInput", "TwoInput", "Address2", "ThreeInput"]
    );
    assert!(
        types.tools[1].declaration.contains("type Address = "),
        "{}",
        types.tools[1].declaration
    );
    assert!(
        types.tools[2].declaration.contains("a?: Address2"),
        "{}",
        types.tools[2].declaration
    );
}

#[test]
fn deep_schemas_end_in_unknown() {
    let mut schema = json!({"type": "string"});
    for _ in 0..500 {
        schema = json!({"type": "array", "items": schema});
    }
    let text = input_type(json!({"properties": {"deep": schema}}));
    assert!(
        text.ends_with("unknown[][][] }") || text.contains("unknown"),
        "{text}"
    );
    let mut literal = json!(1);
    for _ in 0..500 {
        literal = json!([literal]);
    }
    assert!(input_type(json!({"properties": {"deep": {"const": literal}}})).contains("unknown"));
}

#[test]
fn hostile_text_stays_in_comments_and_strings() {
    let evil = [
        "*/ declare const pwned: 1; /*",
        "\"; declare const pwned: 1; \"",
        "`${pwned}` \\",
        "line\ninjected */ }\r\n}; declare const x: 1;\u{2028}/*",
        "</script><script>alert(1)</script>",
        "'\u{0}\u{1b}\u{202e}",
    ];
    let mut properties = serde_json::Map::new();
    for (i, text) in evil.iter().enumerate() {
        properties.insert(
            (*text).to_owned(),
            json!({"description": text, "enum": [text], "default": text}),
        );
        properties.insert(
            format!("p{i}"),
            json!({"type": "object", "properties": {*text: {"const": text}}, "format": text}),
        );
    }
    let tools: Vec<ToolSpec> = evil
        .iter()
        .map(|text| ToolSpec {
            name: (*text).to_owned(),
            description: Some((*text).to_owned()),
            input_schema: json!({"type": "object", "properties": properties.clone(), "$defs": {*text: {"description": text}}}),
            output_schema: Some(json!({"description": text, "$ref": format!("#/$defs/{}", text.replace('~', "~0").replace('/', "~1"))})),
        })
        .collect();
    let types = namespace_types("ns", &tools).unwrap();
    let parsed = check(&types);
    for text in evil {
        assert!(
            parsed.strings.iter().filter(|s| *s == text).count() >= 2 * evil.len(),
            "{text:?}"
        );
        assert!(parsed.keys.iter().any(|k| k == text), "{text:?}");
    }
    assert!(parsed.comments.iter().all(|c| !c.contains("*/")));
    for tool in &types.tools {
        assert!(is_identifier(&tool.ident));
    }
}

#[test]
fn collisions_are_errors() {
    let tools = [
        tool("get-user", json!({})),
        tool("list", json!({})),
        tool("get_user", json!({})),
    ];
    let error = namespace_types("ns", &tools).unwrap_err();
    assert_eq!(
        error,
        TypesError::Collision {
            namespace: "ns".to_owned(),
            ident: "get_user".to_owned(),
            first: "get-user".to_owned(),
            second: "get_user".to_owned(),
        }
    );
    let message = error.to_string();
    assert!(
        message.contains("\"get-user\"") && message.contains("\"get_user\""),
        "{message}"
    );

    let same = [tool("a", json!({})), tool("a", json!({}))];
    assert!(matches!(
        namespace_types("ns", &same),
        Err(TypesError::Collision { .. })
    ));
    let keyword = [tool("delete", json!({})), tool("delete_", json!({}))];
    assert!(matches!(
        namespace_types("ns", &keyword),
        Err(TypesError::Collision { .. })
    ));
}

#[test]
fn bad_namespaces_are_errors() {
    for name in ["", "my-ns", "2x", "delete", "console", "a b", "*/"] {
        assert!(
            matches!(namespace_types(name, &[]), Err(TypesError::Namespace(_))),
            "{name:?}"
        );
    }
    let empty = namespace_types("ns", &[]).unwrap();
    assert_eq!(empty.declarations, "declare namespace ns {\n}\n");
    check(&empty);
}

#[test]
fn tool_specs_deserialize_from_mcp() {
    let spec: ToolSpec = serde_json::from_value(json!({
        "name": "echo", "title": "Echo", "inputSchema": {"type": "object"}, "annotations": {}
    }))
    .unwrap();
    assert_eq!(spec, tool("echo", json!({"type": "object"})));
    let bare: ToolSpec = serde_json::from_value(json!({"name": "x"})).unwrap();
    assert_eq!(bare.input_schema, Value::Null);
    let types = namespace_types("ns", &[bare]).unwrap();
    assert!(
        types
            .declarations
            .contains("function x(input?: XInput): Promise<unknown>;"),
        "{}",
        types.declarations
    );
}

#[test]
fn blowups_are_bounded() {
    // Inlined references that fan out: 2^40 paths without a bound.
    let mut properties = serde_json::Map::new();
    for i in 0..40 {
        let next = format!("#/properties/p{}", i + 1);
        properties.insert(format!("p{i}"), json!({"anyOf": [{"$ref": next}, {"type": "object", "properties": {"x": {"$ref": next}}}]}));
    }
    properties.insert("p40".to_owned(), json!({"type": "string"}));
    let start = std::time::Instant::now();
    let types = namespace_types("ns", &[tool("t", json!({"properties": properties}))]).unwrap();
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert!(types.declarations.contains("unknown"));

    // Many definitions that all reach each other.
    let names: Vec<String> = (0..300).map(|i| format!("D{i}")).collect();
    let defs: serde_json::Map<String, Value> = names
        .iter()
        .map(|name| {
            let refs: serde_json::Map<String, Value> = names
                .iter()
                .map(|n| (n.to_lowercase(), json!({"$ref": format!("#/$defs/{n}")})))
                .collect();
            (name.clone(), json!({"type": "object", "properties": refs}))
        })
        .collect();
    let schema = json!({"properties": {"d": {"$ref": "#/$defs/D0"}}, "$defs": defs});
    let start = std::time::Instant::now();
    let types = namespace_types("ns", &[tool("a", schema.clone()), tool("b", schema)]).unwrap();
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert!(types.declarations.contains("type D299 = "));
    assert!(!types.declarations.contains("D0_2"));
}
