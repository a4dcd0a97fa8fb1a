//! Generated deeply nested TypeScript of every grammar shape, compiled the
//! way guest code is, in a child process so that an overflow shows as a
//! crashed child instead of a crashed test run.
//!
//! The nesting pre-check is skipped on purpose: what is tested is the
//! bound that holds without it, the compiler's stack sized by the source's
//! length ([`crate::deep::STACK_PER_SOURCE_BYTE`]).

use std::process::Command;

/// One shape: `head`, then `open` repeated, `middle`, `close` repeated,
/// then `tail`. Each repetition nests one level deeper.
struct Shape {
    name: &'static str,
    head: &'static str,
    open: &'static str,
    middle: &'static str,
    close: &'static str,
    tail: &'static str,
    /// Bytes of the module the stack test compiles.
    bytes: usize,
}

const fn shape(
    name: &'static str,
    head: &'static str,
    open: &'static str,
    middle: &'static str,
    close: &'static str,
) -> Shape {
    Shape {
        name,
        head,
        open,
        middle,
        close,
        tail: "",
        bytes: SOURCE_BYTES,
    }
}

/// A shape the TypeScript parser takes quadratic time on (it tries each
/// `<` as the start of type arguments and backs off): the stack test uses
/// a smaller module, and the pre-check counts `<` so that no deeper one
/// reaches the compiler.
const fn quadratic(shape: Shape) -> Shape {
    Shape {
        bytes: QUADRATIC_SOURCE_BYTES,
        ..shape
    }
}

const SHAPES: &[Shape] = &[
    shape("parentheses", "x = ", "(", "1", ")"),
    shape("arrays", "x = ", "[", "1", "]"),
    shape("blocks", "", "{", "", "}"),
    shape("objects", "x = ", "{a:", "1", "}"),
    shape("assignments", "", "x=", "1", ""),
    shape("compound assignments", "", "x+=", "1", ""),
    shape("left-deep binary", "x = ", "", "1", "+1"),
    shape("logical", "x = ", "", "a", "&&a"),
    shape("nullish", "x = ", "", "a", "??a"),
    quadratic(shape("comparisons", "x = ", "", "a", "<a")),
    shape("exponents", "x = ", "2**", "1", ""),
    shape("not", "x = ", "!", "1", ""),
    shape("negation", "x = ", "- ", "1", ""),
    shape("typeof", "x = ", "typeof ", "1", ""),
    shape("void", "x = ", "void ", "1", ""),
    shape("await", "x = ", "await ", "1", ""),
    shape("new", "x = ", "new ", "A", ""),
    shape("spread", "x = ", "[...", "a", "]"),
    shape("conditionals", "x = ", "a?b:", "c", ""),
    shape("conditional tests", "x = ", "", "a", "?b:c"),
    shape("arrows", "x = ", "a=>", "1", ""),
    shape("arrow blocks", "x = ", "()=>{", "", "}"),
    shape("async arrows", "x = ", "async a=>", "1", ""),
    shape("functions", "", "function f(){", "", "}"),
    shape("class expressions", "x = ", "class extends (", "A", "){}"),
    shape("templates", "x = ", "`${", "1", "}`"),
    shape("tagged templates", "x = a", "", "", "`b`"),
    shape("calls", "x = f", "", "", "()"),
    shape("call arguments", "x = ", "f(", "1", ")"),
    shape("members", "x = a", "", "", ".b"),
    shape("indexes", "x = a", "", "", "[0]"),
    shape("optional chains", "x = a", "", "", "?.b"),
    shape("non-null assertions", "x = a", "", "", "!"),
    shape("as casts", "x = a", "", "", " as any"),
    shape("satisfies", "x = a", "", "", " satisfies any"),
    shape("angle casts", "x = ", "<any>", "a", ""),
    shape("if", "", "if(a)", ";", ""),
    shape("else if", "if(a){}", "", "", "else if(a){}"),
    shape("while", "", "while(a)", ";", ""),
    shape("labels", "", "a:", ";", ""),
    shape("namespaces", "", "namespace A{", "", "}"),
    shape("generics", "let v: ", "A<", "B", ">"),
    shape("tuple types", "let v: ", "[", "B", "]"),
    shape("object types", "let v: ", "{a:", "B", "}"),
    shape("parenthesized types", "let v: ", "(", "B", ")"),
    shape("union types", "let v: ", "(A|", "B", ")"),
    shape("array types", "let v: A", "", "", "[]"),
    shape("indexed types", "let v: A", "", "", "['a']"),
    shape("function types", "type T = ", "()=>", "A", ""),
    shape("keyof", "type T = ", "keyof ", "A", ""),
    shape(
        "conditional types",
        "type T = ",
        "A extends B ? C : ",
        "D",
        "",
    ),
    quadratic(shape("generic calls", "x = ", "f<", "A", ">()")),
    Shape {
        name: "array patterns",
        head: "let ",
        open: "[",
        middle: "a",
        close: "]",
        tail: " = b",
        bytes: SOURCE_BYTES,
    },
    Shape {
        name: "object patterns",
        head: "let ",
        open: "{a:",
        middle: "b",
        close: "}",
        tail: " = c",
        bytes: SOURCE_BYTES,
    },
];

/// Bytes of each generated module: large enough that the per-byte stack
/// dominates the fixed base, small enough to stay quick.
const SOURCE_BYTES: usize = 96 << 10;

/// Bytes of a [`quadratic`] shape's module.
const QUADRATIC_SOURCE_BYTES: usize = 8 << 10;

/// `shape` nested `levels` deep.
fn generate(shape: &Shape, levels: usize) -> String {
    let mut source = String::new();
    source.push_str(shape.head);
    source.push_str(&shape.open.repeat(levels));
    source.push_str(shape.middle);
    source.push_str(&shape.close.repeat(levels));
    source.push_str(shape.tail);
    source
}

/// The most levels of `shape` that fit in `bytes`.
fn levels_in(shape: &Shape, bytes: usize) -> usize {
    let fixed = shape.head.len() + shape.middle.len() + shape.tail.len();
    (bytes - fixed) / (shape.open.len() + shape.close.len())
}

const SHAPE_VAR: &str = "ISOLA_DEEP_SHAPE";

/// Not a test of its own: the body each child process runs (see
/// [`every_deep_shape_compiles_within_its_stack`]).
#[test]
#[ignore = "run in a child process by every_deep_shape_compiles_within_its_stack"]
fn compile_one_deep_shape() {
    let name = std::env::var(SHAPE_VAR).expect("the shape to compile");
    let shape = SHAPES
        .iter()
        .find(|s| s.name == name)
        .expect("a known shape");
    let source = generate(shape, levels_in(shape, shape.bytes));
    // A syntax error or a compile error is fine; what must not happen is
    // an overflow, which aborts this process.
    let outcome = crate::deep::on_deep_stack(source.len(), move || {
        super::strip_types_here("deep.ts", &source).map(|_| ())
    });
    assert!(outcome.is_ok(), "{name}: {outcome:?}");
}

#[test]
fn every_deep_shape_compiles_within_its_stack() {
    let exe = std::env::current_exe().expect("the test binary");
    let mut crashed = Vec::new();
    for shape in SHAPES {
        let status = Command::new(&exe)
            .args([
                "--exact",
                "typescript::deep_shapes::compile_one_deep_shape",
                "--ignored",
                "--test-threads=1",
                "-q",
            ])
            .env(SHAPE_VAR, shape.name)
            .output()
            .expect("run the child");
        if !status.status.success() {
            crashed.push(format!(
                "{}: {} {}",
                shape.name,
                status.status,
                String::from_utf8_lossy(&status.stderr).trim()
            ));
        }
    }
    assert!(
        crashed.is_empty(),
        "shapes that failed:\n{}",
        crashed.join("\n")
    );
}

#[test]
fn generated_shapes_are_deep_and_of_the_intended_size() {
    for shape in SHAPES {
        let source = generate(shape, levels_in(shape, shape.bytes));
        assert!(source.len() <= shape.bytes, "{}", shape.name);
        assert!(source.len() > shape.bytes - 64, "{}", shape.name);
        assert!(levels_in(shape, shape.bytes) > 400, "{}", shape.name);
    }
}

/// The deepest module of `shape` (up to [`SOURCE_BYTES`]) that the nesting
/// pre-check lets through.
fn deepest_accepted(shape: &Shape) -> String {
    let (mut low, mut high) = (0, levels_in(shape, SOURCE_BYTES));
    if crate::deep::check_nesting(&generate(shape, high)).is_ok() {
        return generate(shape, high);
    }
    // Refusal is monotone in the depth: find the last accepted level.
    while low + 1 < high {
        let mid = (low + high) / 2;
        if crate::deep::check_nesting(&generate(shape, mid)).is_ok() {
            low = mid;
        } else {
            high = mid;
        }
    }
    generate(shape, low)
}

/// Whatever the shape, the deepest code that gets past the pre-check is
/// compiled (or refused) by the production path, neither crashing nor
/// stalling the host: a stall would hold a compile slot for minutes.
#[test]
fn the_deepest_accepted_code_of_every_shape_compiles_promptly() {
    let mut slow = Vec::new();
    for shape in SHAPES {
        let source = deepest_accepted(shape);
        let started = std::time::Instant::now();
        let _ = super::strip_types("deep.ts", &source);
        let took = started.elapsed();
        if took > std::time::Duration::from_secs(10) {
            slow.push(format!(
                "{}: {} bytes took {took:?}",
                shape.name,
                source.len()
            ));
        }
    }
    assert!(slow.is_empty(), "compiles that stall:\n{}", slow.join("\n"));
}
