//! Conformance runners for isola. The runners are test binaries
//! (`tests/test262.rs`); this library holds what they share.

pub mod expectations;
pub mod frontmatter;

/// The platform the runners' realms have: the engine's own extensions
/// and the web platform, as every isola isolate.
pub fn platform() -> &'static isola_engine::Platform {
    static PLATFORM: std::sync::OnceLock<&'static isola_engine::Platform> =
        std::sync::OnceLock::new();
    PLATFORM.get_or_init(|| {
        isola_engine::Platform::new(&[&isola_web::WEB_PLATFORM]).expect("extensions compose")
    })
}
