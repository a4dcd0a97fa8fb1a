//! Worker code as a parent worker hands it to `env.LOADER.load()` or a
//! `get()` callback: the JavaScript object read into plain data, with
//! workerd's messages for every shape it rejects.

use serde::{Deserialize, Serialize};

use crate::source::{CodeError, ModuleSpec, WorkerSource};
use crate::value::Value;

/// Where a dynamic worker's global `fetch()` goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DynamicOutbound {
    /// `globalOutbound` omitted: the parent's outbound.
    Inherit,
    /// `globalOutbound: null`: blocked, with workerd's message.
    Blocked,
    /// `globalOutbound: ctx.exports.Name({ props })`: every `fetch()` of
    /// the child goes to that entrypoint's `fetch` handler in the parent.
    Loopback {
        /// The parent's named export, or `None` for the default.
        entrypoint: Option<String>,
        /// `ctx.props` of those calls.
        props: Value,
    },
}

/// `limits: { cpuMs, subRequests }` of code or of `getEntrypoint`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DynamicLimits {
    /// `cpuMs`.
    pub cpu_ms: Option<u64>,
    /// `subRequests`.
    pub subrequests: Option<u32>,
}

/// `ctx.exports.Name({ props })` of the parent, in a child's `env`: calls
/// on it come back to the parent's entrypoint with these props.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopbackService {
    /// The env name in the child.
    pub binding: String,
    /// The parent's named export, or `None` for the default.
    pub entrypoint: Option<String>,
    /// `ctx.props` of calls through it.
    pub props: Value,
}

/// A `WorkerLoaderWorkerCode` as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamicCode {
    /// `compatibilityDate` (missing is an error at load, as in workerd).
    pub compatibility_date: Option<String>,
    /// `compatibilityFlags`.
    pub compatibility_flags: Vec<String>,
    /// `mainModule`.
    pub main_module: String,
    /// `modules`, typed.
    pub modules: Vec<(String, ModuleSpec)>,
    /// `env`: its own enumerable properties, structured-cloned.
    pub env: Vec<(String, Value)>,
    /// `globalOutbound`.
    pub global_outbound: DynamicOutbound,
    /// `limits`.
    pub limits: DynamicLimits,
    /// Loopback services of the parent in `env`.
    pub services: Vec<LoopbackService>,
    /// `tails`: loopbacks to the parent whose `tail(events)` is called
    /// after each run (`binding` is unused).
    pub tails: Vec<LoopbackService>,
}

impl DynamicCode {
    /// Bytes the host holds for this code while the worker lives: its
    /// modules, `env` and props of its services and tails.
    pub fn approx_size(&self) -> usize {
        let modules: usize = self
            .modules
            .iter()
            .map(|(name, spec)| name.len() + spec.approx_size())
            .sum();
        let env: usize = self
            .env
            .iter()
            .map(|(k, v)| k.len() + v.approx_size())
            .sum();
        let links: usize = self
            .services
            .iter()
            .chain(&self.tails)
            .map(|l| l.binding.len() + l.props.approx_size())
            .sum();
        self.main_module.len() + modules + env + links
    }
}

const MODULE_KINDS: [&str; 7] = ["js", "cjs", "text", "data", "json", "py", "wasm"];

fn member<'a>(members: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    members
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .filter(|v| !matches!(v, Value::Undefined))
}

fn type_error(message: impl Into<String>) -> CodeError {
    CodeError::new(message)
}

fn string(value: &Value, what: &str) -> Result<String, CodeError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        _ => Err(type_error(format!(
            "Incorrect type for the '{what}' field on 'WorkerLoaderWorkerCode': the provided value is not of type 'string'."
        ))),
    }
}

fn module(name: &str, value: &Value) -> Result<ModuleSpec, CodeError> {
    let members = match value {
        Value::String(source) => return ModuleSpec::from_name(name, source.clone()),
        Value::Object(members) => members,
        _ => {
            return Err(type_error(format!(
                "Incorrect type for map entry '{name}': the provided value is not of type 'string or WorkerLoaderModule'."
            )));
        }
    };
    let present: Vec<&(String, Value)> = members
        .iter()
        .filter(|(k, v)| MODULE_KINDS.contains(&k.as_str()) && !matches!(v, Value::Undefined))
        .collect();
    if present.len() != 1 || members.len() != 1 {
        return Err(type_error(format!(
            "Each module must contain exactly one of 'js', 'cjs', 'text', 'data', 'json', 'py', or 'wasm'. Module '{name}' contained {} properties.",
            members.len()
        )));
    }
    let (kind, value) = present[0];
    let text = |v: &Value| string(v, kind);
    Ok(match kind.as_str() {
        "js" => ModuleSpec::Esm(text(value)?),
        "cjs" => ModuleSpec::CommonJs(text(value)?),
        "text" => ModuleSpec::Text(text(value)?),
        "py" => ModuleSpec::Python(text(value)?),
        "json" => ModuleSpec::Json(value.to_json()),
        "data" | "wasm" => {
            let bytes = match value {
                Value::ArrayBuffer(b) | Value::TypedArray { bytes: b, .. } => b.clone(),
                _ => {
                    return Err(type_error(format!(
                        "Incorrect type for the '{kind}' field on 'WorkerLoaderModule': the provided value is not of type 'ArrayBuffer or ArrayBufferView'."
                    )));
                }
            };
            if kind == "data" {
                ModuleSpec::Data(bytes)
            } else {
                ModuleSpec::Wasm(bytes)
            }
        }
        _ => unreachable_kind(kind)?,
    })
}

fn unreachable_kind(kind: &str) -> Result<ModuleSpec, CodeError> {
    Err(type_error(format!("Unsupported module type: {kind}")))
}

fn number(value: &Value, what: &str) -> Result<f64, CodeError> {
    match value {
        Value::Number(n) if n.is_finite() && *n >= 0.0 => Ok(*n),
        _ => Err(type_error(format!(
            "Incorrect type for the '{what}' field on 'ResourceLimits': the provided value is not a non-negative number."
        ))),
    }
}

/// Reads `limits: { cpuMs, subRequests }`.
pub fn read_limits(value: Option<&Value>) -> Result<DynamicLimits, CodeError> {
    let Some(value) = value.filter(|v| !matches!(v, Value::Undefined | Value::Null)) else {
        return Ok(DynamicLimits::default());
    };
    let Value::Object(members) = value else {
        return Err(type_error(
            "Incorrect type for the 'limits' field: the provided value is not of type 'ResourceLimits'.",
        ));
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(DynamicLimits {
        cpu_ms: member(members, "cpuMs")
            .map(|v| number(v, "cpuMs").map(|n| n.ceil() as u64))
            .transpose()?,
        subrequests: member(members, "subRequests")
            .map(|v| number(v, "subRequests").map(|n| n.min(f64::from(u32::MAX)) as u32))
            .transpose()?,
    })
}

/// Reads and validates a `WorkerLoaderWorkerCode` object (already
/// structured-cloned into a [`Value`]). Every error is the message workerd
/// throws from `load()`.
pub fn read_code(value: &Value) -> Result<DynamicCode, CodeError> {
    let Value::Object(members) = value else {
        return Err(type_error(
            "Incorrect type: the provided value is not of type 'WorkerLoaderWorkerCode'.",
        ));
    };
    let compatibility_date = member(members, "compatibilityDate")
        .map(|v| string(v, "compatibilityDate"))
        .transpose()?;
    let compatibility_flags = match member(members, "compatibilityFlags") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| string(v, "compatibilityFlags"))
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(type_error(
                "Incorrect type for the 'compatibilityFlags' field on 'WorkerLoaderWorkerCode': the provided value is not of type 'Array'.",
            ));
        }
    };
    if matches!(
        member(members, "allowExperimental"),
        Some(Value::Bool(true))
    ) {
        return Err(type_error(
            "'allowExperimental' is only allowed when the calling worker has the 'experimental' compat flag set.",
        ));
    }
    let main_module = match member(members, "mainModule") {
        Some(v) => string(v, "mainModule")?,
        None => {
            return Err(type_error(
                "Required field 'mainModule' is missing from 'WorkerLoaderWorkerCode'.",
            ));
        }
    };
    let modules = match member(members, "modules") {
        Some(Value::Object(entries)) => entries
            .iter()
            .map(|(name, v)| Ok((name.clone(), module(name, v)?)))
            .collect::<Result<Vec<_>, CodeError>>()?,
        Some(_) => {
            return Err(type_error(
                "Incorrect type for the 'modules' field on 'WorkerLoaderWorkerCode': the provided value is not of type 'object'.",
            ));
        }
        None => {
            return Err(type_error(
                "Required field 'modules' is missing from 'WorkerLoaderWorkerCode'.",
            ));
        }
    };
    let env = match member(members, "env") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(entries)) => entries.clone(),
        Some(_) => {
            return Err(type_error(
                "Incorrect type for the 'env' field on 'WorkerLoaderWorkerCode': the provided value is not of type 'object'.",
            ));
        }
    };
    let global_outbound = match members.iter().find(|(k, _)| k == "globalOutbound") {
        None | Some((_, Value::Undefined)) => DynamicOutbound::Inherit,
        Some((_, Value::Null)) => DynamicOutbound::Blocked,
        Some(_) => {
            return Err(type_error(
                "isola supports these as 'globalOutbound': null (blocked), omitted (the parent's outbound), or ctx.exports.Name({ props }) (the parent's entrypoint).",
            ));
        }
    };
    let limits = read_limits(member(members, "limits"))?;
    // The same checks `Loader::load` makes (dates, flags, module names and
    // sizes, TypeScript), so shape errors are thrown by `load()` itself.
    WorkerSource::new(
        compatibility_date.as_deref(),
        &compatibility_flags,
        &main_module,
        modules.clone(),
    )?;
    Ok(DynamicCode {
        compatibility_date,
        compatibility_flags,
        main_module,
        modules,
        env,
        global_outbound,
        limits,
        services: Vec::new(),
        tails: Vec::new(),
    })
}

fn loopback_of(parts: &Value) -> Option<(Option<String>, Value)> {
    let Value::Array(parts) = parts else {
        return None;
    };
    let entrypoint = match parts.first() {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null | Value::Undefined) | None => None,
        _ => return None,
    };
    Some((
        entrypoint,
        parts.get(1).cloned().unwrap_or(Value::Undefined),
    ))
}

/// Reads the `{ outbound, tails }` the loader glue splits out of code into
/// `code`.
pub fn read_links(value: &Value, code: &mut DynamicCode) -> Option<()> {
    let Value::Object(members) = value else {
        return matches!(value, Value::Undefined).then_some(());
    };
    if let Some(outbound) = member(members, "outbound") {
        let (entrypoint, props) = loopback_of(outbound)?;
        code.global_outbound = DynamicOutbound::Loopback { entrypoint, props };
    }
    if let Some(Value::Array(tails)) = member(members, "tails") {
        for tail in tails {
            let (entrypoint, props) = loopback_of(tail)?;
            code.tails.push(LoopbackService {
                binding: String::new(),
                entrypoint,
                props,
            });
        }
    }
    Some(())
}

/// Reads the `[[name, entrypoint, props]...]` list the loader glue splits
/// out of `env`.
pub fn read_services(value: &Value) -> Option<Vec<LoopbackService>> {
    let items = match value {
        Value::Array(items) => items,
        Value::Undefined => return Some(Vec::new()),
        _ => return None,
    };
    items
        .iter()
        .map(|item| {
            let Value::Array(parts) = item else {
                return None;
            };
            let binding = match parts.first() {
                Some(Value::String(s)) => s.clone(),
                _ => return None,
            };
            let entrypoint = match parts.get(1) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Null | Value::Undefined) | None => None,
                _ => return None,
            };
            Some(LoopbackService {
                binding,
                entrypoint,
                props: parts.get(2).cloned().unwrap_or(Value::Undefined),
            })
        })
        .collect()
}
