//! ECDSA over P-256 and P-384, and EC key formats.
//!
//! Canonical material: a private key is its PKCS#8 DER, a public key its
//! uncompressed SEC1 point.

use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rand_core::OsRng;

use crate::jwk::{self, Jwk};
use crate::{CryptoError, Hash, digest};

/// A named curve of the Web Crypto spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// NIST P-256.
    P256,
    /// NIST P-384.
    P384,
}

impl Curve {
    /// The curve named as Web Crypto names it (`P-256`), exactly.
    pub fn from_name(name: &str) -> Option<Curve> {
        match name {
            "P-256" => Some(Curve::P256),
            "P-384" => Some(Curve::P384),
            _ => None,
        }
    }

    /// The Web Crypto name.
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
        }
    }

    fn field_bytes(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }
}

fn bad_key() -> CryptoError {
    CryptoError::data("The key data is not a valid key for this curve")
}

/// Runs `$body` with `$m` bound to the curve's crate (`p256` or `p384`).
macro_rules! on_curve {
    ($curve:expr, $m:ident => $body:expr) => {
        match $curve {
            Curve::P256 => {
                use p256 as $m;
                $body
            }
            Curve::P384 => {
                use p384 as $m;
                $body
            }
        }
    };
}

pub(crate) fn generate(curve: Curve) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    on_curve!(curve, m => {
        let secret = m::SecretKey::random(&mut OsRng);
        let der = secret.to_pkcs8_der().map_err(CryptoError::operation)?;
        let point = secret.public_key().to_encoded_point(false);
        Ok((der.as_bytes().to_vec(), point.as_bytes().to_vec()))
    })
}

pub(crate) fn import_raw_public(curve: Curve, bytes: &[u8]) -> Result<Vec<u8>, CryptoError> {
    on_curve!(curve, m => {
        let key = m::PublicKey::from_sec1_bytes(bytes).map_err(|_| bad_key())?;
        Ok(key.to_encoded_point(false).as_bytes().to_vec())
    })
}

pub(crate) fn import_spki(curve: Curve, der: &[u8]) -> Result<Vec<u8>, CryptoError> {
    on_curve!(curve, m => {
        let key = m::PublicKey::from_public_key_der(der).map_err(|_| bad_key())?;
        Ok(key.to_encoded_point(false).as_bytes().to_vec())
    })
}

/// PKCS#8 in, canonical PKCS#8 (and the public point) out.
pub(crate) fn import_pkcs8(curve: Curve, der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    on_curve!(curve, m => {
        let key = m::SecretKey::from_pkcs8_der(der).map_err(|_| bad_key())?;
        let der = key.to_pkcs8_der().map_err(CryptoError::operation)?;
        Ok((der.as_bytes().to_vec(), key.public_key().to_encoded_point(false).as_bytes().to_vec()))
    })
}

/// A JWK in; `(true, pkcs8)` for a private key, `(false, point)` for a public one.
pub(crate) fn import_jwk(curve: Curve, jwk: &Jwk) -> Result<(bool, Vec<u8>), CryptoError> {
    jwk::expect_kty(jwk, "EC")?;
    if jwk.crv.as_deref() != Some(curve.name()) {
        return Err(CryptoError::data(
            "The JWK \"crv\" member does not match the namedCurve",
        ));
    }
    let x = jwk::member(jwk.x.as_ref(), "x")?;
    let y = jwk::member(jwk.y.as_ref(), "y")?;
    let size = curve.field_bytes();
    if x.len() != size || y.len() != size {
        return Err(bad_key());
    }
    let mut sec1 = Vec::with_capacity(1 + 2 * size);
    sec1.push(4);
    sec1.extend_from_slice(&x);
    sec1.extend_from_slice(&y);
    let point = import_raw_public(curve, &sec1)?;
    let Some(d) = jwk.d.as_ref() else {
        return Ok((false, point));
    };
    let d = jwk::member(Some(d), "d")?;
    if d.len() != size {
        return Err(bad_key());
    }
    on_curve!(curve, m => {
        let secret = m::SecretKey::from_slice(&d).map_err(|_| bad_key())?;
        if secret.public_key().to_encoded_point(false).as_bytes() != point.as_slice() {
            return Err(CryptoError::data("The JWK's public and private parts do not match"));
        }
        let der = secret.to_pkcs8_der().map_err(CryptoError::operation)?;
        Ok((true, der.as_bytes().to_vec()))
    })
}

pub(crate) fn export_spki(curve: Curve, point: &[u8]) -> Result<Vec<u8>, CryptoError> {
    on_curve!(curve, m => {
        let key = m::PublicKey::from_sec1_bytes(point).map_err(|_| bad_key())?;
        Ok(key.to_public_key_der().map_err(CryptoError::operation)?.as_bytes().to_vec())
    })
}

pub(crate) fn export_jwk(curve: Curve, private: bool, material: &[u8]) -> Result<Jwk, CryptoError> {
    on_curve!(curve, m => {
        let (public, d) = if private {
            let secret = m::SecretKey::from_pkcs8_der(material).map_err(|_| bad_key())?;
            (secret.public_key(), Some(jwk::encode(&secret.to_bytes())))
        } else {
            (m::PublicKey::from_sec1_bytes(material).map_err(|_| bad_key())?, None)
        };
        let point = public.to_encoded_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err(bad_key());
        };
        Ok(Jwk {
            kty: "EC".into(),
            crv: Some(curve.name().into()),
            x: Some(jwk::encode(x)),
            y: Some(jwk::encode(y)),
            d,
            ..Jwk::default()
        })
    })
}

pub(crate) fn public_of(curve: Curve, pkcs8: &[u8]) -> Result<Vec<u8>, CryptoError> {
    on_curve!(curve, m => {
        let secret = m::SecretKey::from_pkcs8_der(pkcs8).map_err(|_| bad_key())?;
        Ok(secret.public_key().to_encoded_point(false).as_bytes().to_vec())
    })
}

/// An ECDSA signature (IEEE P1363: `r || s`) of the `hash` of `data`.
pub fn ecdsa_sign(
    curve: Curve,
    hash: Hash,
    pkcs8: &[u8],
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let prehash = digest(hash, data);
    on_curve!(curve, m => {
        let key = m::ecdsa::SigningKey::from_pkcs8_der(pkcs8).map_err(|_| bad_key())?;
        let signature: m::ecdsa::Signature = key
            .sign_prehash(&prehash)
            .map_err(|_| CryptoError::operation("ECDSA signing failed (the hash may be too short for the curve)"))?;
        Ok(signature.to_bytes().to_vec())
    })
}

/// Whether `signature` (IEEE P1363) signs the `hash` of `data`.
pub fn ecdsa_verify(
    curve: Curve,
    hash: Hash,
    point: &[u8],
    data: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    let prehash = digest(hash, data);
    on_curve!(curve, m => {
        let key = m::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| bad_key())?;
        let Ok(signature) = m::ecdsa::Signature::from_slice(signature) else {
            return Ok(false);
        };
        Ok(key.verify_prehash(&prehash, &signature).is_ok())
    })
}
