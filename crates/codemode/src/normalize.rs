//! Normalization of the code models send.
//!
//! Models answer "write a program" in many shapes: a bare body with a final
//! expression, a fenced markdown block, `export default async function`, a
//! lone `async function main()`, an arrow function, TypeScript. [`normalize`]
//! turns each of them into one JavaScript expression that evaluates to a
//! function; calling that function with no arguments runs the program.
//!
//! The code is parsed with `oxc` (as a TypeScript module, so type
//! annotations are accepted and stripped), restructured as an AST and printed
//! again; user text is never spliced into a template.
//!
//! Rules, in order:
//!
//! 1. One markdown fence enclosing the whole input (```` ``` ````, optionally
//!    tagged `js`, `javascript`, `ts`, `typescript`, `jsx` or `tsx`) is
//!    removed; a fence tagged with another language is an error, a fence
//!    that is never closed loses its opening line only.
//! 2. Nothing left (or only comments) → `async () => {}`.
//! 3. `import` of values and re-exports are errors (the sandbox has no
//!    modules; what a program can use is already in scope). `import type`
//!    is fine; `export` in front of a declaration and `export { … }` lists
//!    are dropped.
//! 4. `export default` makes its declaration or expression the program's
//!    result: a function (or the name of a top-level function) is called,
//!    anything else — a class included — is returned as it is.
//! 5. A program that is exactly one arrow function or function expression
//!    (parenthesized or not, with or without `;`, `async function () {}`
//!    included) is the function.
//! 6. A program that is exactly one named function declaration is called.
//! 7. Otherwise the program becomes the body of `async () => { … }` (so
//!    top-level `await` and `return` work), its last statement turned into
//!    `return` if it is an expression.
//!
//! Errors are reported with the 1-based line and column in the text as sent.

use std::path::Path;

use oxc::allocator::{Allocator, ArenaBox, ArenaVec};
use oxc::ast::ast::BindingPattern;
use oxc::ast::ast::{
    Argument, ArrowFunctionBody, ClassType, Directive, ExportDefaultDeclarationKind, Expression,
    FormalParameterKind, FormalParameters, FunctionType, ImportDeclaration,
    ImportDeclarationSpecifier, Program, Statement, VariableDeclarationKind, VariableDeclarator,
};
use oxc::ast::builder::AstBuilder;
use oxc::codegen::{Codegen, CodegenOptions, CommentOptions, IndentChar};
use oxc::diagnostics::Diagnostics;
use oxc::parser::{ParseOptions, Parser};
use oxc::semantic::SemanticBuilder;
use oxc::span::{SPAN, SourceType, Span};
use oxc::transformer::{TransformOptions, Transformer};

/// Turns `source` into one JavaScript expression that evaluates to a function;
/// calling it with no arguments runs the program (it may return a promise).
///
/// The expression is plain JavaScript (TypeScript types are stripped) and is
/// safe to put in parentheses, e.g. `const program = (<expression>);`.
///
/// Code longer than [`MAX_SOURCE_BYTES`] or nested deeper than
/// [`isola::engine::deep::MAX_NESTING`] is refused: the compiler recurses
/// once per nesting level, so it runs on a thread whose stack is sized for
/// the source's worst case, and a panic in it is reported as an error,
/// never taking the host down.
pub fn normalize(source: &str) -> Result<String, SyntaxError> {
    use isola::engine::deep;
    let refuse = |message: String, (line, column): (u32, u32)| {
        Err(SyntaxError {
            message,
            line,
            column,
        })
    };
    if source.len() > MAX_SOURCE_BYTES {
        return refuse(
            format!(
                "the code is {} bytes; at most {MAX_SOURCE_BYTES} are accepted",
                source.len()
            ),
            (1, 1),
        );
    }
    if let Err(at) = deep::check_nesting(source) {
        return refuse(
            format!(
                "code nested more than {} levels deep is not accepted",
                deep::MAX_NESTING
            ),
            at,
        );
    }
    let (len, source) = (source.len(), source.to_owned());
    deep::on_deep_stack(len, move || normalize_here(&source))
        .unwrap_or_else(|e| refuse(format!("the code could not be compiled: {e}"), (1, 1)))
}

/// The most code [`normalize`] accepts: far more than a model writes for
/// one run.
pub const MAX_SOURCE_BYTES: usize = 256 << 10;

fn normalize_here(source: &str) -> Result<String, SyntaxError> {
    let (code, start) = strip_fence(source).map_err(|failure| failure.locate(source, 0))?;
    if code.trim().is_empty() {
        return Ok(EMPTY.to_owned());
    }
    let allocator = Allocator::default();
    match compile(&allocator, code, Shape::Program) {
        Ok(expression) => Ok(expression),
        Err(failure) => {
            // `async function () {}` is an expression that cannot stand as a
            // statement; try it in parentheses before giving up.
            let expression = code.trim_end().trim_end_matches(';');
            let wrapped = allocator.alloc_str(&format!("({expression}\n)"));
            compile(&allocator, wrapped, Shape::ParenthesizedFunction)
                .map_err(|_| failure.locate(source, start))
        }
    }
}

/// Code that does not parse even after wrapping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SyntaxError: {message} (line {line}, column {column})")]
pub struct SyntaxError {
    /// What is wrong, as the parser puts it.
    pub message: String,
    /// 1-based, in the code as sent (after removing a fence, lines counted in
    /// the original text).
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
}

/// The program that does nothing.
const EMPTY: &str = "async () => {}";

/// Fence tags that are taken for JavaScript or TypeScript.
const LANGUAGES: [&str; 6] = ["js", "javascript", "ts", "typescript", "jsx", "tsx"];

/// The name given to an anonymous `export default` that is not the last
/// statement, so that it can be called after the statements that follow it.
const DEFAULT_NAME: &str = "__default";

/// An error at a byte offset of the code being compiled.
#[derive(Debug)]
struct Failure {
    message: String,
    offset: usize,
    /// Other places the error refers to ("opened here"), as label and offset.
    notes: Vec<(String, usize)>,
}

impl Failure {
    fn new(message: impl Into<String>, offset: usize) -> Self {
        Self {
            message: message.into(),
            offset,
            notes: Vec::new(),
        }
    }

    /// The error with its position in `source`, where the compiled code
    /// started at byte `start`.
    fn locate(self, source: &str, start: usize) -> SyntaxError {
        let (line, column) = line_column(source, start + self.offset);
        let mut message = self.message;
        for (label, offset) in self.notes {
            let (line, column) = line_column(source, start + offset);
            let mut chars = label.chars();
            let label: String = chars
                .next()
                .map(|first| first.to_lowercase().chain(chars).collect())
                .unwrap_or_default();
            message.push_str(&format!(" ({label}: line {line}, column {column})"));
        }
        SyntaxError {
            message,
            line,
            column,
        }
    }
}

use isola::engine::deep::line_column;

/// Removes one markdown fence around the whole of `source`, returning the
/// code inside and its byte offset in `source`. Errors carry offsets in
/// `source`.
fn strip_fence(source: &str) -> Result<(&str, usize), Failure> {
    let (code, start) = match opening_fence(source) {
        Some((fence, language, body)) => {
            if !language.is_empty() && !LANGUAGES.contains(&language.to_ascii_lowercase().as_str())
            {
                return Err(Failure::new(
                    format!(
                        "a code block in `{language}` cannot run here; send JavaScript or TypeScript"
                    ),
                    source.len() - source.trim_start().len(),
                ));
            }
            // A fence that is never closed (a cut-off answer) loses its
            // opening line only.
            let inner = &source[body..];
            let inner = inner.trim_end();
            (inner.strip_suffix(fence).unwrap_or(inner), body)
        }
        None => (source, 0),
    };
    // What is left cannot start with backticks that open a fence: that is a
    // second fence, or a broken one. (As JavaScript it would be a chain of
    // tagged templates that fails when run.)
    let rest = code.trim_start();
    if rest.starts_with("```") {
        return Err(Failure::new(
            "a markdown code fence where code was expected; send the program in at most one fence",
            start + code.len() - rest.len(),
        ));
    }
    Ok((code, start))
}

/// The fence opening `source` (its backticks and language) and the byte
/// offset where the line after it starts.
fn opening_fence(source: &str) -> Option<(&str, &str, usize)> {
    let start = source.len() - source.trim_start().len();
    let text = &source[start..];
    let ticks = text.bytes().take_while(|&b| b == b'`').count();
    if ticks < 3 {
        return None;
    }
    let newline = text.find('\n')?;
    let info = text[ticks..newline].trim();
    if info.contains('`') {
        return None;
    }
    let language = info.split_whitespace().next().unwrap_or("");
    Some((&text[..ticks], language, start + newline + 1))
}

/// What the compiled code is expected to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A program as the user sent it.
    Program,
    /// The user's text between parentheses that this module added; it must
    /// be exactly one function expression.
    ParenthesizedFunction,
}

/// Parses `code` as a TypeScript module, strips the types and prints the
/// program as one function expression.
fn compile<'a>(allocator: &'a Allocator, code: &'a str, shape: Shape) -> Result<String, Failure> {
    let options = ParseOptions {
        // The program becomes a function body, where `return` is allowed.
        allow_return_outside_function: shape == Shape::Program,
        ..ParseOptions::default()
    };
    let parsed = Parser::new(allocator, code, SourceType::ts().with_module(true))
        .with_options(options)
        .parse();
    check(&parsed.diagnostics)?;
    let mut program = parsed.program;
    if shape == Shape::ParenthesizedFunction && !is_parenthesized_function(&program, code.len()) {
        return Err(Failure::new("not a function expression", 0));
    }
    reject_modules(&program)?;
    let semantic = SemanticBuilder::new()
        .with_check_syntax_error(true)
        // The transformer needs enum values evaluated (it panics otherwise).
        .with_enum_eval(true)
        .build(&program);
    check(&semantic.diagnostics)?;
    let scoping = semantic.semantic.into_scoping();
    let transformed = Transformer::new(
        allocator,
        Path::new("program.ts"),
        &TransformOptions::default(),
    )
    .build_with_scoping(scoping, &mut program);
    check(&transformed.diagnostics)?;

    let builder = AstBuilder::new(allocator);
    let directives = std::mem::replace(&mut program.directives, ArenaVec::new_in(&builder));
    let body = std::mem::replace(&mut program.body, ArenaVec::new_in(&builder));
    let expression = restructure(&builder, directives, body)?;
    Ok(print(&builder, code, expression))
}

/// The first error among `diagnostics`, at its primary label.
fn check(diagnostics: &Diagnostics) -> Result<(), Failure> {
    let Some(error) = diagnostics.errors().next() else {
        return Ok(());
    };
    // The primary label, or else the last: "redeclared here" follows
    // "declared here".
    let main = error
        .labels
        .iter()
        .position(|label| label.primary())
        .or_else(|| error.labels.len().checked_sub(1));
    let mut failure = Failure::new(error.message.to_string(), 0);
    for (index, label) in error.labels.iter().enumerate() {
        if Some(index) == main {
            failure.offset = label.offset() as usize;
        } else if let Some(text) = label.label() {
            failure
                .notes
                .push((text.to_owned(), label.offset() as usize));
        }
    }
    Err(failure)
}

/// Whether `program` is `(<function>)` with the parentheses at `0` and `len`.
fn is_parenthesized_function(program: &Program<'_>, len: usize) -> bool {
    let [Statement::ExpressionStatement(statement)] = program.body.as_slice() else {
        return false;
    };
    let Expression::ParenthesizedExpression(parenthesized) = &statement.expression else {
        return false;
    };
    parenthesized.span.start == 0
        && parenthesized.span.end as usize == len
        && parenthesized.expression.is_function()
        && program.directives.is_empty()
}

/// Rejects what needs a module system: value imports and re-exports.
fn reject_modules(program: &Program<'_>) -> Result<(), Failure> {
    for statement in &program.body {
        match statement {
            Statement::ImportDeclaration(import) if imports_values(import) => {
                return Err(import_error(import.span));
            }
            Statement::ExportAllDeclaration(export) if export.export_kind.is_value() => {
                return Err(reexport_error(export.span));
            }
            Statement::ExportFromDeclaration(export) if export.export_kind.is_value() => {
                return Err(reexport_error(export.span));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether `import` brings in anything but types (or runs a module).
fn imports_values(import: &ImportDeclaration<'_>) -> bool {
    if import.import_kind.is_type() {
        return false;
    }
    match &import.specifiers {
        Some(specifiers) if !specifiers.is_empty() => specifiers.iter().any(|specifier| {
            !matches!(specifier, ImportDeclarationSpecifier::ImportSpecifier(s) if s.import_kind.is_type())
        }),
        _ => true,
    }
}

fn import_error(span: Span) -> Failure {
    Failure::new(
        "`import` is not available: the program runs without modules, and what it can use is already in scope",
        span.start as usize,
    )
}

fn reexport_error(span: Span) -> Failure {
    Failure::new(
        "re-exporting from another module is not available: the program runs without modules",
        span.start as usize,
    )
}

/// Builds the function expression from a (type-stripped) program's
/// directives and statements.
fn restructure<'a>(
    builder: &AstBuilder<'a>,
    mut directives: ArenaVec<'a, Directive<'a>>,
    body: ArenaVec<'a, Statement<'a>>,
) -> Result<Expression<'a>, Failure> {
    let mut statements: Vec<Statement<'a>> = Vec::with_capacity(body.len() + 1);
    let mut default = None;
    for statement in body {
        match statement {
            // `;`, `export { a, b }` and the `export {}` left by type stripping.
            Statement::EmptyStatement(_) | Statement::ExportNamedDeclaration(_) => {}
            Statement::ExportDeclaration(export) => {
                statements.push(Statement::from(export.unbox().declaration));
            }
            Statement::ExportDefaultDeclaration(export) => {
                default = Some((statements.len(), export.unbox().declaration));
            }
            // Only if type stripping brought them in: checked before.
            Statement::ImportDeclaration(import) => return Err(import_error(import.span)),
            Statement::ExportAllDeclaration(export) => return Err(reexport_error(export.span)),
            Statement::ExportFromDeclaration(export) => return Err(reexport_error(export.span)),
            statement => statements.push(statement),
        }
    }

    if let Some((index, declaration)) = default {
        export_default(builder, &mut statements, index, declaration);
        return Ok(wrap(builder, directives, statements));
    }

    match statements.pop() {
        // Only comments, or only `"use strict"`-like string statements: the
        // last string is the program's value, as it would be for `eval`.
        None => {
            if let Some(directive) = directives.pop() {
                let value =
                    Expression::StringLiteral(ArenaBox::new_in(directive.expression, builder));
                statements.push(Statement::new_return_statement(
                    directive.span,
                    Some(value),
                    builder,
                ));
            }
        }
        // The program is a function.
        Some(Statement::ExpressionStatement(last))
            if statements.is_empty() && last.expression.without_parentheses().is_function() =>
        {
            return Ok(unparenthesize(last.unbox().expression));
        }
        // The program ends with an expression: its value.
        Some(Statement::ExpressionStatement(last)) => {
            let last = last.unbox();
            statements.push(Statement::new_return_statement(
                last.span,
                Some(last.expression),
                builder,
            ));
        }
        // The program is one named function: call it.
        Some(Statement::FunctionDeclaration(function)) if statements.is_empty() => {
            let name = function.id.as_ref().map(|id| id.name);
            statements.push(Statement::FunctionDeclaration(function));
            if let Some(name) = name {
                let callee = Expression::new_identifier(SPAN, name, builder);
                let call = call(builder, callee);
                statements.push(Statement::new_return_statement(SPAN, Some(call), builder));
            }
        }
        Some(last) => statements.push(last),
    }
    Ok(wrap(builder, directives, statements))
}

/// Makes an `export default` found before `statements[index]` the result of
/// the program: kept in place, and returned (called, if a function) at the
/// end.
fn export_default<'a>(
    builder: &AstBuilder<'a>,
    statements: &mut Vec<Statement<'a>>,
    index: usize,
    declaration: ExportDefaultDeclarationKind<'a>,
) {
    let is_last = index == statements.len();
    // The value, whether to call it, and whether it must be kept in a
    // variable (an expression followed by more statements).
    let (value, is_function, bind) = match declaration {
        ExportDefaultDeclarationKind::FunctionDeclaration(mut function) => {
            if let Some(name) = function.id.as_ref().map(|id| id.name) {
                statements.insert(index, Statement::FunctionDeclaration(function));
                (Expression::new_identifier(SPAN, name, builder), true, false)
            } else {
                function.r#type = FunctionType::FunctionExpression;
                (Expression::FunctionExpression(function), true, !is_last)
            }
        }
        ExportDefaultDeclarationKind::ClassDeclaration(mut class) => {
            if let Some(name) = class.id.as_ref().map(|id| id.name) {
                statements.insert(index, Statement::ClassDeclaration(class));
                (
                    Expression::new_identifier(SPAN, name, builder),
                    false,
                    false,
                )
            } else {
                class.r#type = ClassType::ClassExpression;
                (Expression::ClassExpression(class), false, !is_last)
            }
        }
        // Removed with the types already; nothing to return.
        ExportDefaultDeclarationKind::TSInterfaceDeclaration(_) => return,
        declaration => {
            let expression = unparenthesize(declaration.into_expression());
            let is_function = match &expression {
                // `async function main() {…}  export default main;`
                Expression::Identifier(name) => statements.iter().any(|statement| {
                    matches!(statement, Statement::FunctionDeclaration(f)
                        if f.id.as_ref().is_some_and(|id| id.name == name.name))
                }),
                expression => expression.is_function(),
            };
            (expression, is_function, !is_last)
        }
    };

    let value = if bind {
        // Evaluate it where it was written; use it once the rest has run.
        let id = BindingPattern::new_binding_identifier(SPAN, DEFAULT_NAME, builder);
        let declarator = VariableDeclarator::new(SPAN, id, None, Some(value), false, builder);
        statements.insert(
            index,
            Statement::new_variable_declaration(
                SPAN,
                VariableDeclarationKind::Const,
                [declarator],
                false,
                builder,
            ),
        );
        Expression::new_identifier(SPAN, DEFAULT_NAME, builder)
    } else {
        value
    };
    let result = if is_function {
        call(builder, value)
    } else {
        value
    };
    statements.push(Statement::new_return_statement(SPAN, Some(result), builder));
}

/// `callee()`.
fn call<'a>(builder: &AstBuilder<'a>, mut callee: Expression<'a>) -> Expression<'a> {
    // Marked as invoked, a function is printed in parentheses: `(function () {})()`.
    match &mut callee {
        Expression::FunctionExpression(function) => function.pife = true,
        Expression::ArrowFunctionExpression(arrow) => arrow.pife = true,
        _ => {}
    }
    let arguments: [Argument<'a>; 0] = [];
    Expression::new_call_expression(SPAN, callee, None, arguments, false, builder)
}

/// `expression` without the parentheses around it.
fn unparenthesize(mut expression: Expression<'_>) -> Expression<'_> {
    while let Expression::ParenthesizedExpression(parenthesized) = expression {
        expression = parenthesized.unbox().expression;
    }
    expression
}

/// `async () => { <directives> <statements> }`.
fn wrap<'a>(
    builder: &AstBuilder<'a>,
    directives: ArenaVec<'a, Directive<'a>>,
    statements: Vec<Statement<'a>>,
) -> Expression<'a> {
    let params = FormalParameters::boxed(
        SPAN,
        FormalParameterKind::ArrowFormalParameters,
        [],
        None,
        builder,
    );
    let body = ArrowFunctionBody::new_function_body(
        SPAN,
        directives,
        ArenaVec::from_iter_in(statements, builder),
        builder,
    );
    Expression::new_arrow_function_expression(SPAN, true, None, params, None, body, builder)
}

/// Prints `expression` as JavaScript, without a trailing `;`.
fn print<'a>(builder: &AstBuilder<'a>, code: &'a str, expression: Expression<'a>) -> String {
    let statement = Statement::new_expression_statement(SPAN, expression, builder);
    let program = Program::new(
        SPAN,
        SourceType::mjs(),
        code,
        [],
        None,
        [],
        [statement],
        builder,
    );
    let options = CodegenOptions {
        comments: CommentOptions::disabled(),
        indent_char: IndentChar::Space,
        indent_width: 2,
        ..CodegenOptions::default()
    };
    let printed = Codegen::new().with_options(options).build(&program).code;
    let printed = printed.trim_end();
    printed.strip_suffix(';').unwrap_or(printed).to_owned()
}

#[cfg(test)]
mod tests {
    use oxc::allocator::Allocator;
    use oxc::ast::ast::Statement;
    use oxc::codegen::Codegen;
    use oxc::parser::{ParseOptions, Parser};
    use oxc::semantic::SemanticBuilder;
    use oxc::span::SourceType;

    use super::{MAX_SOURCE_BYTES, normalize};

    /// The deepest nesting the size cap allows, in every shape that makes
    /// the compiler recurse, ends in an answer (not a stack overflow, which
    /// would abort this test binary).
    #[test]
    fn deepest_nesting_is_survived() {
        let max = MAX_SOURCE_BYTES;
        let nested = |open: &str, middle: &str, close: &str| {
            let n = (max - middle.len()) / (open.len() + close.len());
            format!("{}{middle}{}", open.repeat(n), close.repeat(n))
        };
        let chained = |unit: &str, last: &str| {
            format!("{}{last}", unit.repeat((max - last.len()) / unit.len()))
        };
        let cases = [
            nested("(", "1", ")"),
            nested("[", "1", "]"),
            nested("{", "", "}"),
            nested("f(", "1", ")"),
            nested("`${", "1", "}`"),
            nested("() => (", "1", ")"),
            nested("function f(){", "", "}"),
            nested("if (a) {", "", "}"),
            chained("a + ", "a"),
            chained("!", "a"),
            chained("- ", "a"),
            chained("a ? b : ", "c"),
            chained("a = ", "1"),
            chained("await ", "1"),
            chained("a.b", ""),
            chained("x => ", "1"),
            chained("type T = Array<", "1"),
        ];
        for code in cases {
            assert!(code.len() <= max);
            // Either an answer or a refusal; the point is that it returns.
            let _ = normalize(&code);
        }
        // Right at the nesting limit, every shape compiles on the deep stack.
        let limit = isola::engine::deep::MAX_NESTING;
        for (open, middle, close) in [
            ("(", "1", ")"),
            ("{", "", "}"),
            ("[", "1", "]"),
            ("a ? b : (", "1", ")"),
        ] {
            let n = limit / (1 + usize::from(open.contains('?')));
            let code = format!("{}{middle}{}", open.repeat(n), close.repeat(n));
            assert!(normalize(&code).is_ok(), "{}", &code[..20]);
        }
        let error = normalize(&"(".repeat(limit + 1)).expect_err("too deep");
        assert!(
            error.message.contains("nested more than"),
            "{}",
            error.message
        );
        let too_long = "1;".repeat(max);
        let error = normalize(&too_long).expect_err("over the cap");
        assert!(error.message.contains("at most"), "{}", error.message);
    }

    /// What `normalize` should give.
    enum Want {
        /// This JavaScript (compared after reprinting both, so layout and
        /// redundant parentheses do not matter).
        Js(&'static str),
        /// A syntax error at this 1-based line and column whose message
        /// contains this text.
        Error(u32, u32, &'static str),
    }
    use Want::{Error, Js};

    #[rustfmt::skip]
    const CASES: &[(&str, &str, Want)] = &[
        // Fences: one enclosing fence is removed, whatever is inside is kept.
        ("fence js", "```js\nconst a = 1;\na + 1\n```", Js("async () => { const a = 1; return a + 1; }")),
        ("fence typescript", "```typescript\nconst n: number = 2;\nn * 2\n```", Js("async () => { const n = 2; return n * 2; }")),
        ("fence bare", "```\nreturn 1\n```", Js("async () => { return 1; }")),
        ("fence tsx, upper case", "```TSX\n42\n```", Js("async () => { return 42; }")),
        ("fence with blank lines and CRLF", "\r\n  ```ts\r\nlet x = 1\r\nx\r\n```\r\n\n", Js("async () => { let x = 1; return x; }")),
        ("fence of four backticks", "````js\nconst s = '```';\ns\n````", Js("async () => { const s = '```'; return s; }")),
        ("fence never closed", "```js\nawait tools.ping()\n", Js("async () => { return await tools.ping(); }")),
        ("comment between fence and code", "```js\n// fetch it\n/* then */ await x()\n```", Js("async () => { return await x(); }")),
        ("fence inside a template literal is code", "```js\nconst md = `\n\\`\\`\\`js\nx\n\\`\\`\\`\n`;\nmd\n```", Js("async () => { const md = `\n\\`\\`\\`js\nx\n\\`\\`\\`\n`; return md; }")),
        ("template literal right before the closing fence", "```js\n`a${1}b````", Js("async () => { return `a${1}b`; }")),
        ("no fence, template with a fence", "const md = `\n\\`\\`\\`\n`;\nmd.length", Js("async () => { const md = `\n\\`\\`\\`\n`; return md.length; }")),
        ("nested fences: only one is removed", "```js\n```js\n1\n```\n```", Error(2, 1, "code fence")),
        ("fence in another language", "```python\nprint(1)\n```", Error(1, 1, "`python`")),
        ("one-line fence", "```js 1 ```", Error(1, 1, "code fence")),
        // Nothing to run.
        ("empty", "", Js("async () => {}")),
        ("whitespace", "  \n\t ", Js("async () => {}")),
        ("empty fence", "```js\n\n```", Js("async () => {}")),
        ("only comments", "// nothing to do\n/* really */", Js("async () => {}")),
        // A function as the whole program passes through.
        ("arrow", "async () => { return 1 }", Js("async () => { return 1; }")),
        ("arrow in parentheses with ;", "(async () => {\n  const x = await f();\n  return x;\n});", Js("async () => { const x = await f(); return x; }")),
        ("arrow with a trailing comment", "async () => 1 // done", Js("async () => 1")),
        ("arrow in TypeScript", "async (): Promise<number> => { const x: number = 1; return x as number }", Js("async () => { const x = 1; return x; }")),
        ("anonymous async function", "async function () { return 2 }", Js("(async function () { return 2; })")),
        ("anonymous function with ;", "function () { return 2 };\n", Js("(function () { return 2; })")),
        ("named function expression", "(function named() { return 3 })", Js("(function named() { return 3; })")),
        // export default: a function is called, anything else returned.
        ("export default named function", "export default async function main() { return 1 }", Js("async () => { async function main() { return 1; } return main(); }")),
        ("export default anonymous function", "export default async function () { return 1 }", Js("async () => { return (async function () { return 1; })(); }")),
        ("export default arrow", "export default async () => 5;", Js("async () => { return (async () => 5)(); }")),
        ("export default expression after statements", "const x = 2;\nexport default x * 2;", Js("async () => { const x = 2; return x * 2; }")),
        ("export default name of a function", "async function main() {}\nexport default main;", Js("async () => { async function main() {} return main(); }")),
        ("export default class is returned", "export default class Tool { run() {} }", Js("async () => { class Tool { run() {} } return Tool; }")),
        ("export default before other statements", "export default function () { return n }\nconst n = 1;", Js("async () => { const __default = function () { return n; }; const n = 1; return __default(); }")),
        ("export keyword and lists dropped", "export const a = 1;\nexport { a };\na", Js("async () => { const a = 1; return a; }")),
        // One named function declaration is called.
        ("single function", "async function main() {\n  return await tools.x();\n}", Js("async () => { async function main() { return await tools.x(); } return main(); }")),
        ("single exported TypeScript function", "export async function main(): Promise<void> {}", Js("async () => { async function main() {} return main(); }")),
        ("two functions are not called", "function a() {}\nfunction b() {}", Js("async () => { function a() {} function b() {} }")),
        // Otherwise the body is wrapped and a final expression returned.
        ("top-level await", "const r = await api.get();\nr.items.length", Js("async () => { const r = await api.get(); return r.items.length; }")),
        ("top-level return", "return 42", Js("async () => { return 42; }")),
        ("returns in control flow", "const x = 1;\nif (x) {\n  return x;\n}\nreturn 0;", Js("async () => { const x = 1; if (x) { return x; } return 0; }")),
        ("final call", "console.log('hi');", Js("async () => { return console.log('hi'); }")),
        ("final loop returns nothing", "for (const x of [1]) {}", Js("async () => { for (const x of [1]) {} }")),
        ("IIFE", "(async () => 1)()", Js("async () => { return (async () => 1)(); }")),
        ("object literal", "({ a: 1 })", Js("async () => { return { a: 1 }; }")),
        ("trailing line comment", "const a = 1\na // the answer", Js("async () => { const a = 1; return a; }")),
        ("strings with } and */", "const s = '}'; /* } */\nconst t = \"*/\";\ns + t", Js("async () => { const s = '}'; const t = '*/'; return s + t; }")),
        ("template with backticks and ${}", "const n = 'x';\n`a \\` b ${n} ${`in ${1}`}`", Js("async () => { const n = 'x'; return `a \\` b ${n} ${`in ${1}`}`; }")),
        ("semicolons only around", ";;1;;", Js("async () => { return 1; }")),
        ("use strict kept", "'use strict';\nconst a = 1;\na", Js("async () => { 'use strict'; const a = 1; return a; }")),
        ("a lone string is the value", "'done'", Js("async () => { return 'done'; }")),
        ("TypeScript stripped", "interface P { x: number }\ntype Q = P;\nconst p = { x: 1 } as Q;\np.x!", Js("async () => { const p = { x: 1 }; return p.x; }")),
        ("TypeScript enum", "enum E { A, B }\nE.B", Js("async () => { var E = function (E) { E[E['A'] = 0] = 'A'; E[E['B'] = 1] = 'B'; return E; }(E || {}); return E.B; }")),
        ("import type is fine", "import type { Foo } from './foo';\nconst f: Foo = 1;\nf", Js("async () => { const f = 1; return f; }")),
        // Errors, at their place in the text as sent.
        ("import", "const a = 1;\nimport fs from 'fs';\n", Error(2, 1, "`import` is not available")),
        ("re-export", "\nexport * from './x'", Error(2, 1, "re-exporting")),
        ("extra brace on line 3", "const a = 1;\nfoo(a);\n}\nbar();", Error(3, 1, "Unexpected token")),
        ("unclosed brace", "const a = 1;\nif (a) {\n  a();\n", Error(4, 1, "(opened here: line 2, column 8)")),
        ("error inside a fence", "```js\nconst a = ;\n```", Error(2, 11, "")),
        ("error after top-level return", "return a +;", Error(1, 11, "Unexpected token")),
        ("TypeScript error", "let x: = 1", Error(1, 8, "")),
        ("redeclaration", "let a = 1;\nlet a = 2;", Error(2, 5, "`a` has already been declared")),
        ("column in characters", "'é' + ;", Error(1, 7, "")),
    ];

    /// `normalized` as the executor embeds it, reprinted; panics if that is
    /// not valid JavaScript or does not make `__program` a function.
    fn embedded(normalized: &str) -> String {
        let module = format!("const __program = ({normalized});\nawait __program();\n");
        let allocator = Allocator::default();
        let options = ParseOptions {
            preserve_parens: false,
            ..ParseOptions::default()
        };
        let parsed = Parser::new(&allocator, &module, SourceType::mjs())
            .with_options(options)
            .parse();
        assert!(
            parsed.diagnostics.errors().next().is_none(),
            "not JavaScript: {:?}\n{module}",
            parsed.diagnostics
        );
        let checked = SemanticBuilder::new()
            .with_check_syntax_error(true)
            .build(&parsed.program);
        assert!(
            checked.diagnostics.errors().next().is_none(),
            "not valid: {:?}\n{module}",
            checked.diagnostics
        );
        let Some(Statement::VariableDeclaration(declaration)) = parsed.program.body.first() else {
            panic!("not one expression: {module}");
        };
        let is_function = declaration
            .declarations
            .first()
            .and_then(|d| d.init.as_ref())
            .is_some_and(|init| init.is_function());
        assert!(is_function, "not a function: {module}");
        Codegen::new().build(&parsed.program).code
    }

    #[test]
    fn table() {
        let mut failures = Vec::new();
        for (name, input, want) in CASES {
            let got = normalize(input);
            let ok = match (want, &got) {
                (Js(expected), Ok(output)) => embedded(output) == embedded(expected),
                (Error(line, column, text), Err(error)) => {
                    error.line == *line && error.column == *column && error.message.contains(text)
                }
                _ => false,
            };
            if !ok {
                failures.push(format!("{name}: {input:?}\n  got {got:?}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn error_display() {
        let error = normalize("const x = ;").expect_err("invalid");
        assert_eq!(error.line, 1);
        assert!(error.to_string().starts_with("SyntaxError: "), "{error}");
        assert!(
            error.to_string().ends_with("(line 1, column 11)"),
            "{error}"
        );
    }

    #[test]
    fn output_has_no_trailing_semicolon_and_no_comments() {
        let out = normalize("// note\nconst a = 1; // one\na /* end */").expect("valid");
        assert_eq!(out, "async () => {\n  const a = 1;\n  return a;\n}");
    }
}
