//! TypeScript accepted as written: types are stripped with `oxc`.

use std::path::{Path, PathBuf};

use oxc::allocator::Allocator;
use oxc::codegen::{Codegen, CodegenOptions};
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

/// JavaScript from TypeScript, with a map back to the TypeScript positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stripped {
    pub(crate) code: String,
    pub(crate) map: LineMap,
}

/// Generated position → original position, 0-based, sorted by generated
/// position.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct LineMap(Vec<(u32, u32, u32, u32)>);

impl LineMap {
    /// The original 1-based line and column of a generated 1-based position.
    pub(crate) fn original(&self, line: u32, column: u32) -> Option<(u32, u32)> {
        let key = (line.checked_sub(1)?, column.saturating_sub(1));
        let index = self.0.partition_point(|t| (t.0, t.1) <= key);
        let token = self.0.get(index.checked_sub(1)?)?;
        (token.0 == key.0).then_some((token.2 + 1, token.3 + 1 + (key.1 - token.1)))
    }
}

/// Strips TypeScript types from an ES module, producing JavaScript.
///
/// Code nested deeper than [`crate::deep::MAX_NESTING`] is refused, and the
/// compiler runs on a thread whose stack is sized for the source's worst
/// case (see [`crate::deep`]): the source is the guest's, and oxc recurses
/// without limit.
pub(crate) fn strip_types(name: &str, source: &str) -> Result<Stripped, TsError> {
    if let Err((line, column)) = crate::deep::check_nesting(source) {
        return Err(TsError {
            message: format!(
                "code nested more than {} levels deep is not accepted",
                crate::deep::MAX_NESTING
            ),
            line,
            column,
        });
    }
    let (name, owned) = (name.to_owned(), source.to_owned());
    crate::deep::on_deep_stack(source.len(), move || strip_types_here(&name, &owned))
        .unwrap_or_else(|e| {
            Err(TsError {
                message: match e {
                    crate::deep::DeepStackError::Failed => {
                        "the TypeScript compiler failed on this module".into()
                    }
                    too_large => format!("{too_large}; compile it to JavaScript first"),
                },
                line: 1,
                column: 1,
            })
        })
}

fn strip_types_here(name: &str, source: &str) -> Result<Stripped, TsError> {
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
    // Enum evaluation is required by the enum transform (without it the
    // transformer panics on any `enum`).
    let scoping = SemanticBuilder::new()
        .with_enum_eval(true)
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
    let options = CodegenOptions {
        source_map_path: Some(PathBuf::from(name)),
        ..CodegenOptions::default()
    };
    let generated = Codegen::new().with_options(options).build(&program);
    let mut tokens: Vec<(u32, u32, u32, u32)> = generated
        .map
        .as_ref()
        .map(|map| {
            map.get_tokens()
                .map(|t| {
                    (
                        t.get_dst_line(),
                        t.get_dst_col(),
                        t.get_src_line(),
                        t.get_src_col(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    tokens.sort_unstable();
    Ok(Stripped {
        code: generated.code,
        map: LineMap(tokens),
    })
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
mod deep_shapes;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_annotations_interfaces_and_casts() {
        let js = strip_types(
            "a.ts",
            "interface P { x: number }\nexport function f(p: P): number { return (p as any).x as number + 1 }\n",
        )
        .expect("valid TypeScript")
        .code;
        assert!(!js.contains("interface"), "{js}");
        assert!(!js.contains(": number"), "{js}");
        assert!(js.contains("export function f(p)"), "{js}");
    }

    #[test]
    fn maps_generated_positions_back_to_typescript() {
        let source = "interface A {\n  x: number;\n}\ntype B = string;\nexport function go(): never {\n  throw new TypeError('here');\n}\n";
        let stripped = strip_types("a.ts", source).expect("valid");
        let (line, _) = stripped
            .code
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains("throw"))
            .map(|(i, l)| (i + 1, l))
            .expect("throw line");
        let column = stripped
            .code
            .lines()
            .nth(line - 1)
            .and_then(|l| l.find("throw"))
            .expect("col")
            + 1;
        let original = stripped
            .map
            .original(line as u32, column as u32)
            .expect("mapped");
        assert_eq!(original, (6, 3));
    }

    #[test]
    fn reports_position_of_syntax_errors() {
        let err = strip_types("a.ts", "let x: number = 1;\nlet = ;\n").expect_err("invalid");
        assert_eq!(err.line, 2, "{err:?}");
    }
}
