//! The cryptography behind `crypto.subtle`, as pure functions over bytes.
//!
//! The engine's glue does the Web Crypto object model (algorithm
//! normalization, `CryptoKey`, usages, promises); this crate does the
//! arithmetic, on RustCrypto crates, and nothing else: no state, no I/O
//! beyond the OS random generator. Key material crosses the boundary in one
//! canonical form per key kind (see [`KeyKind`]); import and export convert
//! between that form and the Web Crypto formats.
//!
//! Errors carry the `DOMException` name the Web Crypto spec gives them.

mod aes;
mod ec;
mod ed25519;
mod error;
mod hash;
mod jwk;
mod kdf;
mod keys;
mod rsa;
mod rsa_keygen;

pub use aes::{aes_cbc, aes_ctr, aes_gcm};
pub use ec::{Curve, ecdsa_sign, ecdsa_verify};
pub use ed25519::{ed25519_sign, ed25519_verify};
pub use error::{CryptoError, ErrorName};
pub use hash::{Hash, digest, hmac_sign, hmac_verify};
pub use jwk::Jwk;
pub use kdf::{MAX_PBKDF2_ITERATIONS, MAX_PBKDF2_WORK, hkdf, pbkdf2};
pub use keys::{
    Format, GeneratedPair, Imported, KeyData, KeyKind, export_key, generate_pair, import_key,
    public_of, rsa_parameters,
};
pub use rsa::{
    MAX_GENERATED_MODULUS_BITS, MAX_MODULUS_BITS, RsaScheme, rsa_oaep, rsa_sign, rsa_verify,
};

/// Whether an operation encrypts or decrypts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Encrypt.
    Encrypt,
    /// Decrypt.
    Decrypt,
}
