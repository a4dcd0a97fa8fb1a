//! Ed25519. Canonical material: the 32-byte seed (private) or the 32-byte
//! public key.

use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rand_core::OsRng;

use crate::CryptoError;
use crate::jwk::{self, Jwk};

fn bad_key() -> CryptoError {
    CryptoError::data("The key data is not a valid Ed25519 key")
}

fn seed(bytes: &[u8]) -> Result<SigningKey, CryptoError> {
    let seed: &[u8; 32] = bytes.try_into().map_err(|_| bad_key())?;
    Ok(SigningKey::from_bytes(seed))
}

fn public(bytes: &[u8]) -> Result<VerifyingKey, CryptoError> {
    let bytes: &[u8; 32] = bytes.try_into().map_err(|_| bad_key())?;
    VerifyingKey::from_bytes(bytes).map_err(|_| bad_key())
}

pub(crate) fn generate() -> (Vec<u8>, Vec<u8>) {
    let key = SigningKey::generate(&mut OsRng);
    (
        key.to_bytes().to_vec(),
        key.verifying_key().to_bytes().to_vec(),
    )
}

pub(crate) fn import_raw_public(bytes: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(public(bytes)?.to_bytes().to_vec())
}

pub(crate) fn import_spki(der: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(VerifyingKey::from_public_key_der(der)
        .map_err(|_| bad_key())?
        .to_bytes()
        .to_vec())
}

pub(crate) fn import_pkcs8(der: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(SigningKey::from_pkcs8_der(der)
        .map_err(|_| bad_key())?
        .to_bytes()
        .to_vec())
}

pub(crate) fn import_jwk(jwk: &Jwk) -> Result<(bool, Vec<u8>), CryptoError> {
    jwk::expect_kty(jwk, "OKP")?;
    if jwk.crv.as_deref() != Some("Ed25519") {
        return Err(CryptoError::data(
            "The JWK \"crv\" member must be \"Ed25519\"",
        ));
    }
    let x = public(&jwk::member(jwk.x.as_ref(), "x")?)?;
    let Some(d) = jwk.d.as_ref() else {
        return Ok((false, x.to_bytes().to_vec()));
    };
    let key = seed(&jwk::member(Some(d), "d")?)?;
    if key.verifying_key() != x {
        return Err(CryptoError::data(
            "The JWK's public and private parts do not match",
        ));
    }
    Ok((true, key.to_bytes().to_vec()))
}

pub(crate) fn export_spki(material: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(public(material)?
        .to_public_key_der()
        .map_err(CryptoError::operation)?
        .as_bytes()
        .to_vec())
}

pub(crate) fn export_pkcs8(material: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(seed(material)?
        .to_pkcs8_der()
        .map_err(CryptoError::operation)?
        .as_bytes()
        .to_vec())
}

pub(crate) fn export_jwk(private: bool, material: &[u8]) -> Result<Jwk, CryptoError> {
    let (x, d) = if private {
        let key = seed(material)?;
        (key.verifying_key(), Some(jwk::encode(&key.to_bytes())))
    } else {
        (public(material)?, None)
    };
    Ok(Jwk {
        kty: "OKP".into(),
        crv: Some("Ed25519".into()),
        x: Some(jwk::encode(x.as_bytes())),
        d,
        ..Jwk::default()
    })
}

pub(crate) fn public_of(material: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(seed(material)?.verifying_key().to_bytes().to_vec())
}

/// The Ed25519 signature of `data`.
pub fn ed25519_sign(seed_bytes: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(seed(seed_bytes)?.sign(data).to_bytes().to_vec())
}

/// Whether `signature` is a valid Ed25519 signature of `data`.
pub fn ed25519_verify(
    public_key: &[u8],
    data: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    let key = public(public_key)?;
    let Ok(signature) = Signature::from_slice(signature) else {
        return Ok(false);
    };
    Ok(key.verify(data, &signature).is_ok())
}
