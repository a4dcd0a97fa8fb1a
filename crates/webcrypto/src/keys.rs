//! Key import, export and generation, between the Web Crypto formats and
//! the canonical material of each key kind.

use crate::jwk::{self, Jwk};
use crate::{CryptoError, Curve, ec, ed25519, rsa};

/// What kind of key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A secret (HMAC, AES, PBKDF2, HKDF): raw bytes.
    Secret,
    /// An EC key: PKCS#8 DER (private) or an uncompressed SEC1 point (public).
    Ec(Curve),
    /// An Ed25519 key: 32-byte seed (private) or 32-byte public key.
    Ed25519,
    /// An RSA key: PKCS#8 DER (private) or SPKI DER (public).
    Rsa,
}

/// A key format of `importKey`/`exportKey`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Raw bytes: secrets, and EC/Ed25519 public keys.
    Raw,
    /// SubjectPublicKeyInfo DER.
    Spki,
    /// PKCS#8 PrivateKeyInfo DER.
    Pkcs8,
    /// JSON Web Key.
    Jwk,
}

impl Format {
    /// The format as `importKey` names it.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "raw" => Some(Format::Raw),
            "spki" => Some(Format::Spki),
            "pkcs8" => Some(Format::Pkcs8),
            "jwk" => Some(Format::Jwk),
            _ => None,
        }
    }
}

/// Key data in or out: bytes, or a JWK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyData {
    /// `raw`, `spki` or `pkcs8` bytes.
    Bytes(Vec<u8>),
    /// A JWK.
    Jwk(Box<Jwk>),
}

/// An imported key: whether it is private (asymmetric kinds) and its
/// canonical material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// A private key (always `false` for secrets).
    pub private: bool,
    /// The canonical material.
    pub material: Vec<u8>,
}

/// A generated asymmetric key pair in canonical material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedPair {
    /// The private key.
    pub private: Vec<u8>,
    /// The public key.
    pub public: Vec<u8>,
}

fn wrong_format(kind: KeyKind, format: Format) -> CryptoError {
    CryptoError::not_supported(format!(
        "{kind:?} keys cannot be imported or exported as {format:?}"
    ))
}

/// Imports key data of `format` as a key of `kind`.
pub fn import_key(kind: KeyKind, format: Format, data: KeyData) -> Result<Imported, CryptoError> {
    let public = |material| {
        Ok(Imported {
            private: false,
            material,
        })
    };
    let private = |material| {
        Ok(Imported {
            private: true,
            material,
        })
    };
    match (kind, format, data) {
        (KeyKind::Secret, Format::Raw, KeyData::Bytes(b)) => public(b),
        (KeyKind::Secret, Format::Jwk, KeyData::Jwk(j)) => {
            jwk::expect_kty(&j, "oct")?;
            public(jwk::member(j.k.as_ref(), "k")?)
        }
        (KeyKind::Ec(c), Format::Raw, KeyData::Bytes(b)) => public(ec::import_raw_public(c, &b)?),
        (KeyKind::Ec(c), Format::Spki, KeyData::Bytes(b)) => public(ec::import_spki(c, &b)?),
        (KeyKind::Ec(c), Format::Pkcs8, KeyData::Bytes(b)) => private(ec::import_pkcs8(c, &b)?.0),
        (KeyKind::Ec(c), Format::Jwk, KeyData::Jwk(j)) => {
            let (is_private, material) = ec::import_jwk(c, &j)?;
            Ok(Imported {
                private: is_private,
                material,
            })
        }
        (KeyKind::Ed25519, Format::Raw, KeyData::Bytes(b)) => {
            public(ed25519::import_raw_public(&b)?)
        }
        (KeyKind::Ed25519, Format::Spki, KeyData::Bytes(b)) => public(ed25519::import_spki(&b)?),
        (KeyKind::Ed25519, Format::Pkcs8, KeyData::Bytes(b)) => private(ed25519::import_pkcs8(&b)?),
        (KeyKind::Ed25519, Format::Jwk, KeyData::Jwk(j)) => {
            let (is_private, material) = ed25519::import_jwk(&j)?;
            Ok(Imported {
                private: is_private,
                material,
            })
        }
        (KeyKind::Rsa, Format::Spki, KeyData::Bytes(b)) => public(rsa::import_spki(&b)?),
        (KeyKind::Rsa, Format::Pkcs8, KeyData::Bytes(b)) => private(rsa::import_pkcs8(&b)?),
        (KeyKind::Rsa, Format::Jwk, KeyData::Jwk(j)) => {
            let (is_private, material) = rsa::import_jwk(&j)?;
            Ok(Imported {
                private: is_private,
                material,
            })
        }
        (_, Format::Jwk, KeyData::Bytes(_)) => {
            Err(CryptoError::data("JWK import needs a JsonWebKey object"))
        }
        (_, _, KeyData::Jwk(_)) => Err(CryptoError::data(
            "Key data must be a BufferSource for this format",
        )),
        (kind, format, _) => Err(wrong_format(kind, format)),
    }
}

/// Exports canonical material of `kind` as `format`.
pub fn export_key(
    kind: KeyKind,
    format: Format,
    private: bool,
    material: &[u8],
) -> Result<KeyData, CryptoError> {
    let bytes = |b: Vec<u8>| Ok(KeyData::Bytes(b));
    let invalid = || {
        CryptoError::new(
            crate::ErrorName::InvalidAccess,
            format!("This key cannot be exported as {format:?}"),
        )
    };
    match (kind, format) {
        (KeyKind::Secret, Format::Raw) => bytes(material.to_vec()),
        (KeyKind::Secret, Format::Jwk) => Ok(KeyData::Jwk(Box::new(Jwk {
            kty: "oct".into(),
            k: Some(jwk::encode(material)),
            ..Jwk::default()
        }))),
        (KeyKind::Ec(_) | KeyKind::Ed25519, Format::Raw) if private => Err(invalid()),
        (KeyKind::Ec(_), Format::Raw) => bytes(material.to_vec()),
        (KeyKind::Ec(c), Format::Spki) if !private => bytes(ec::export_spki(c, material)?),
        (KeyKind::Ec(_), Format::Pkcs8) if private => bytes(material.to_vec()),
        (KeyKind::Ec(c), Format::Jwk) => Ok(KeyData::Jwk(Box::new(ec::export_jwk(
            c, private, material,
        )?))),
        (KeyKind::Ed25519, Format::Raw) => bytes(material.to_vec()),
        (KeyKind::Ed25519, Format::Spki) if !private => bytes(ed25519::export_spki(material)?),
        (KeyKind::Ed25519, Format::Pkcs8) if private => bytes(ed25519::export_pkcs8(material)?),
        (KeyKind::Ed25519, Format::Jwk) => Ok(KeyData::Jwk(Box::new(ed25519::export_jwk(
            private, material,
        )?))),
        (KeyKind::Rsa, Format::Spki) if !private => bytes(material.to_vec()),
        (KeyKind::Rsa, Format::Pkcs8) if private => bytes(material.to_vec()),
        (KeyKind::Rsa, Format::Jwk) => {
            Ok(KeyData::Jwk(Box::new(rsa::export_jwk(private, material)?)))
        }
        (KeyKind::Secret, _) | (KeyKind::Rsa, Format::Raw) => Err(wrong_format(kind, format)),
        _ => Err(invalid()),
    }
}

/// Generates a key pair. `modulus_bits` and `public_exponent` apply to RSA,
/// whose generation (seconds for large keys) asks `interrupt` between
/// units of work and gives up when it returns true.
pub fn generate_pair(
    kind: KeyKind,
    modulus_bits: u32,
    public_exponent: &[u8],
    interrupt: &dyn Fn() -> bool,
) -> Result<GeneratedPair, CryptoError> {
    let (private, public) = match kind {
        KeyKind::Ec(c) => ec::generate(c)?,
        KeyKind::Ed25519 => ed25519::generate(),
        KeyKind::Rsa => rsa::generate(modulus_bits, public_exponent, interrupt)?,
        KeyKind::Secret => return Err(CryptoError::not_supported("Secrets are not key pairs")),
    };
    Ok(GeneratedPair { private, public })
}

/// The public half of a private key's material.
pub fn public_of(kind: KeyKind, private: &[u8]) -> Result<Vec<u8>, CryptoError> {
    match kind {
        KeyKind::Ec(c) => ec::public_of(c, private),
        KeyKind::Ed25519 => ed25519::public_of(private),
        KeyKind::Rsa => rsa::public_of(private),
        KeyKind::Secret => Err(CryptoError::not_supported("Secrets have no public half")),
    }
}

/// Modulus length in bits and public exponent of RSA material.
pub fn rsa_parameters(private: bool, material: &[u8]) -> Result<(u32, Vec<u8>), CryptoError> {
    rsa::describe(private, material)
}
