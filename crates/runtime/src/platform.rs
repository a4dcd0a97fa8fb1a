//! The extensions every isolate of this process has: the engine's own (the
//! core runtime and the Workers API) and the web platform. Composed once,
//! the first time an isolate is made, in supervisor and worker processes
//! alike.

use std::sync::OnceLock;

use isola_engine::Platform;

/// The platform of every isolate this runtime makes, for hosts that also
/// drive isolates themselves ([`isola_engine::Isolate::new`]).
pub fn platform() -> &'static Platform {
    static PLATFORM: OnceLock<&'static Platform> = OnceLock::new();
    PLATFORM.get_or_init(|| {
        Platform::new(&[&isola_web::WEB_PLATFORM])
            .expect("isola's own extensions compose (a test checks)")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_extensions_compose() {
        let names: Vec<&str> = super::platform().extensions().collect();
        assert_eq!(names, ["core", "workers", "web"]);
    }
}
