//! Module resolution and loading, from memory only.
//!
//! A specifier resolves to a name in the worker's module map or to a
//! built-in module of the platform's extensions (`cloudflare:workers`);
//! nothing else exists. No path, URL or
//! scheme ever reaches the file system or the network.

use std::sync::Arc;

use rquickjs::loader::{ImportAttributes, Loader, Resolver};
use rquickjs::{ArrayBuffer, Ctx, Error, Exception, Function, Module, Value as JsValue};

use crate::glue;
use crate::platform::Platform;
use crate::source::{Compiled, WorkerSource};

/// Resolves `specifier` as imported from `base`.
pub(crate) fn resolve_name(
    platform: &Platform,
    source: &WorkerSource,
    base: &str,
    specifier: &str,
) -> Result<String, String> {
    if platform.is_builtin(specifier) {
        return Ok(specifier.to_owned());
    }
    let candidate = if specifier.starts_with("./") || specifier.starts_with("../") {
        let dir = base.rsplit_once('/').map_or("", |(d, _)| d);
        join(dir, specifier).ok_or_else(|| format!("No such module: {specifier}"))?
    } else if let Some(rooted) = specifier.strip_prefix('/') {
        rooted.to_owned()
    } else {
        specifier.to_owned()
    };
    if source.modules.contains_key(&candidate) {
        Ok(candidate)
    } else {
        Err(format!("No such module: {specifier}"))
    }
}

/// Joins a relative specifier onto a directory; `None` if it climbs above
/// the root of the module map.
fn join(dir: &str, relative: &str) -> Option<String> {
    let mut segments: Vec<&str> = if dir.is_empty() {
        Vec::new()
    } else {
        dir.split('/').collect()
    };
    for seg in relative.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop()?;
            }
            other => segments.push(other),
        }
    }
    Some(segments.join("/"))
}

pub(crate) struct MemoryResolver {
    pub(crate) platform: &'static Platform,
    pub(crate) source: Arc<WorkerSource>,
}

impl Resolver for MemoryResolver {
    fn resolve<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        let resolved = resolve_name(self.platform, &self.source, base, name)
            .map_err(|message| Exception::throw_message(ctx, &message))?;
        if let Some(attributes) = attributes {
            let kind = self.source.modules.get(&resolved);
            check_attributes(ctx, name, kind, &attributes)?;
        }
        Ok(resolved)
    }
}

/// An import's attributes against the module it names: `type: "json"` only
/// for a JSON module (as in workerd, the attribute is a promise about the
/// module that must hold, not a hint), no other type (a TypeError, as in
/// browsers) and no other key (a SyntaxError: ECMAScript's
/// `AllImportAttributesSupported`).
fn check_attributes(
    ctx: &Ctx<'_>,
    specifier: &str,
    module: Option<&Compiled>,
    attributes: &ImportAttributes<'_>,
) -> rquickjs::Result<()> {
    for key in attributes.keys() {
        let key = key?;
        if key != "type" {
            return Err(Exception::throw_syntax(
                ctx,
                &format!("Unsupported import attribute: {key}"),
            ));
        }
    }
    let message = match attributes.get_type()?.as_deref() {
        None => return Ok(()),
        Some("json") if matches!(module, Some(Compiled::Json(_))) => return Ok(()),
        Some("json") => format!(
            "Module \"{specifier}\" is not a JSON module, but was imported with type \"json\""
        ),
        Some(other) => format!("Unsupported import attribute type: \"{other}\""),
    };
    Err(Exception::throw_type(ctx, &message))
}

pub(crate) struct MemoryLoader {
    pub(crate) platform: &'static Platform,
    pub(crate) source: Arc<WorkerSource>,
}

impl Loader for MemoryLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js>> {
        if let Some(builtin) = self.platform.module(name) {
            let module = Module::declare(ctx.clone(), name, builtin.declaration.as_str())?;
            let exports: JsValue<'js> = glue::export(ctx, builtin.chunk, builtin.export)?;
            module.meta()?.set("isola", exports)?;
            return Ok(module);
        }
        let Some(compiled) = self.source.modules.get(name) else {
            return Err(Exception::throw_message(
                ctx,
                &format!("No such module: {name}"),
            ));
        };
        if let Compiled::Esm(code) = compiled {
            return Module::declare(ctx.clone(), name, code.as_str());
        }
        if let Compiled::Invalid(error) = compiled {
            return Err(throw_startup_error(ctx, error));
        }
        let module = Module::declare(ctx.clone(), name, "export default import.meta.isola;\n")?;
        let value = non_esm_value(ctx, name, compiled)?;
        module.meta()?.set("isola", value)?;
        Ok(module)
    }
}

fn throw_startup_error(ctx: &Ctx<'_>, error: &crate::source::StartupError) -> Error {
    let location = error
        .location
        .as_ref()
        .map(|(m, l, c)| format!("\n    at {m}:{l}:{c}"))
        .unwrap_or_default();
    let thrown = (|| -> rquickjs::Result<Error> {
        let make = glue::core_fn(ctx, "makeError")?;
        let e: JsValue = make.call((error.name.as_str(), error.message.as_str(), location))?;
        Ok(ctx.throw(e))
    })();
    thrown.unwrap_or_else(|e| e)
}

/// The default export of a module that is not an ES module.
pub(crate) fn non_esm_value<'js>(
    ctx: &Ctx<'js>,
    name: &str,
    compiled: &Compiled,
) -> rquickjs::Result<JsValue<'js>> {
    Ok(match compiled {
        Compiled::Text(text) => rquickjs::String::from_str(ctx.clone(), text)?.into_value(),
        Compiled::Data(bytes) => ArrayBuffer::new_copy(ctx.clone(), bytes)?.into_value(),
        Compiled::Json(json) => ctx.json_parse(json.as_str())?,
        Compiled::CommonJs(code) => {
            let evaluate = glue::core_fn(ctx, "cjsEvaluate")?;
            // One line of prefix keeps the guest's line numbers in stack traces.
            let wrapped = format!(
                "(function (exports, require, module, __filename, __dirname) {{{code}\n}})"
            );
            let mut options = rquickjs::context::EvalOptions::default();
            options.global = true;
            options.strict = false;
            options.filename = Some(name.to_owned());
            let wrapper: Function = ctx.eval_with_options(wrapped, options)?;
            evaluate.call((name, wrapper))?
        }
        Compiled::Esm(_) => {
            return Err(Exception::throw_type(
                ctx,
                &format!("require() of ES module {name} is not supported; use import instead."),
            ));
        }
        Compiled::Invalid(error) => return Err(throw_startup_error(ctx, error)),
    })
}

/// `require(specifier)` from a CommonJS module.
pub(crate) fn require<'js>(
    ctx: &Ctx<'js>,
    source: &WorkerSource,
    from: &str,
    specifier: &str,
) -> rquickjs::Result<JsValue<'js>> {
    let platform = glue::platform(ctx)?;
    if let Some(builtin) = platform.module(specifier) {
        return glue::export(ctx, builtin.chunk, builtin.export);
    }
    let name = resolve_name(platform, source, from, specifier)
        .map_err(|m| Exception::throw_message(ctx, &m))?;
    let compiled = source
        .modules
        .get(&name)
        .ok_or_else(|| Exception::throw_message(ctx, &format!("No such module: {specifier}")))?;
    non_esm_value(ctx, &name, compiled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ModuleSpec;

    fn platform() -> &'static Platform {
        crate::test_platform()
    }

    fn source(names: &[&str]) -> WorkerSource {
        WorkerSource::new(
            Some("2026-01-01"),
            &[],
            names[0],
            names
                .iter()
                .map(|n| ((*n).to_owned(), ModuleSpec::Esm(String::new())))
                .collect(),
        )
        .expect("valid")
    }

    #[test]
    fn relative_imports_resolve_against_the_importer() {
        let s = source(&["src/index.js", "src/lib/util.js", "common.js"]);
        assert_eq!(
            resolve_name(platform(), &s, "src/index.js", "./lib/util.js").as_deref(),
            Ok("src/lib/util.js")
        );
        assert_eq!(
            resolve_name(platform(), &s, "src/lib/util.js", "../../common.js").as_deref(),
            Ok("common.js")
        );
        assert_eq!(
            resolve_name(platform(), &s, "src/index.js", "common.js").as_deref(),
            Ok("common.js")
        );
        assert_eq!(
            resolve_name(platform(), &s, "src/index.js", "/common.js").as_deref(),
            Ok("common.js")
        );
    }

    #[test]
    fn nothing_outside_the_map_resolves() {
        let s = source(&["a.js"]);
        for spec in [
            "os",
            "std",
            "/etc/passwd",
            "file:///etc/passwd",
            "http://x/a.js",
            "data:text/javascript,1",
            "../../a.js",
            "./../a.js",
            "node:fs",
        ] {
            assert_eq!(
                resolve_name(platform(), &s, "a.js", spec),
                Err(format!("No such module: {spec}")),
                "{spec}"
            );
        }
    }
}
