//! TypeScript accepted as written: types are stripped with `oxc`.

use std::path::Path;

use oxc::allocator::Allocator;
use oxc::codegen::Codegen;
use oxc::parser::Parser;
use oxc::semantic::SemanticBuilder;
use oxc::span::SourceType;
use oxc::transformer::{TransformOptions, Transformer};

/// A TypeScript syntax error with its 1-based position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TsError {
    pub(crate) message: String,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

/// Strips TypeScript types from an ES module, producing JavaScript.
pub(crate) fn strip_types(name: &str, source: &str) -> Result<String, TsError> {
    let allocator = Allocator::default();
    let source_type = SourceType::ts().with_module(true);
    let parsed = Parser::new(&allocator, source, source_type).parse();
    if let Some(error) = parsed.diagnostics.errors().next() {
        let offset = error.labels.first().map_or(0, |l| l.span().start as usize);
        let (line, column) = line_column(source, offset);
        return Err(TsError {
            message: error.message.to_string(),
            line,
            column,
        });
    }
    let mut program = parsed.program;
    let scoping = SemanticBuilder::new()
        .build(&program)
        .semantic
        .into_scoping();
    let options = TransformOptions::default();
    let transformed = Transformer::new(&allocator, Path::new(name), &options)
        .build_with_scoping(scoping, &mut program);
    if let Some(error) = transformed.diagnostics.errors().next() {
        let offset = error.labels.first().map_or(0, |l| l.span().start as usize);
        let (line, column) = line_column(source, offset);
        return Err(TsError {
            message: error.message.to_string(),
            line,
            column,
        });
    }
    Ok(Codegen::new().build(&program).code)
}

fn line_column(source: &str, offset: usize) -> (u32, u32) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_annotations_interfaces_and_casts() {
        let js = strip_types(
            "a.ts",
            "interface P { x: number }\nexport function f(p: P): number { return (p as any).x as number + 1 }\n",
        )
        .expect("valid TypeScript");
        assert!(!js.contains("interface"), "{js}");
        assert!(!js.contains(": number"), "{js}");
        assert!(js.contains("export function f(p)"), "{js}");
    }

    #[test]
    fn reports_position_of_syntax_errors() {
        let err = strip_types("a.ts", "let x: number = 1;\nlet = ;\n").expect_err("invalid");
        assert_eq!(err.line, 2, "{err:?}");
    }
}
