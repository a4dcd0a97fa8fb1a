//! A stand-in for an engine bug, for tests that assume the engine is
//! already owned: a process that arms the probe gives every isolate it
//! makes one global, `__isolaAttack(action)`, that runs `action` natively
//! (a raw syscall, say) and returns what happened as a string. Guest code
//! then does from inside its worker process exactly what an attacker who
//! broke QuickJS could do.
//!
//! Behind the `attack-probe` feature, which only the test targets enable;
//! and even there nothing is installed until a test binary's own `main`
//! calls [`arm_attack_probe`]. `.ci/run` checks the released binary does
//! not contain the global's name.

use std::sync::OnceLock;

use rquickjs::{Ctx, Function};

static ACT: OnceLock<fn(&str) -> String> = OnceLock::new();

/// Gives isolates made by this process from now on the `__isolaAttack`
/// global, which calls `act`. The first call wins.
pub fn arm_attack_probe(act: fn(&str) -> String) {
    let _ = ACT.set(act);
}

pub(crate) fn install(ctx: &Ctx<'_>) -> rquickjs::Result<()> {
    let Some(&act) = ACT.get() else {
        return Ok(());
    };
    let probe = Function::new(ctx.clone(), move |action: String| act(&action))?;
    ctx.globals().set("__isolaAttack", probe)
}
