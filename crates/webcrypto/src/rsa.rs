//! RSASSA-PKCS1-v1_5, RSA-PSS and RSA-OAEP. Canonical material: PKCS#8 DER
//! (private) or SPKI DER (public).
//!
//! Limitation, stated honestly: the `rsa` crate's decryption is not
//! constant-time (RUSTSEC-2023-0071, "Marvin"); a guest timing its own
//! OAEP decryptions could learn about its own key, nothing else.

use rand_core::OsRng;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, Oaep, Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};

use crate::jwk::{self, Jwk};
use crate::{CryptoError, Direction, Hash, digest};

/// The largest modulus isola accepts in an imported key: private-key
/// operations run on the isolate's thread (an 8192-bit signature takes tens
/// of milliseconds).
pub const MAX_MODULUS_BITS: usize = 8192;

/// The largest modulus isola generates. Generation can be interrupted
/// between candidates (see `rsa_keygen`), but its time grows with the
/// fourth power of the size: 4096 bits take seconds, 8192 bits minutes,
/// more than any call's CPU limit allows.
pub const MAX_GENERATED_MODULUS_BITS: usize = 4096;

/// The smallest modulus accepted.
const MIN_MODULUS_BITS: usize = 512;

/// Which RSA signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaScheme {
    /// RSASSA-PKCS1-v1_5.
    Pkcs1v15,
    /// RSA-PSS with this salt length in bytes.
    Pss(usize),
}

fn bad_key() -> CryptoError {
    CryptoError::data("The key data is not a valid RSA key")
}

fn check_size(bits: usize) -> Result<(), CryptoError> {
    if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bits) {
        return Err(CryptoError::not_supported(format!(
            "RSA moduli of {bits} bits are not supported (allowed: {MIN_MODULUS_BITS} to {MAX_MODULUS_BITS})"
        )));
    }
    Ok(())
}

fn private(der: &[u8]) -> Result<RsaPrivateKey, CryptoError> {
    RsaPrivateKey::from_pkcs8_der(der).map_err(|_| bad_key())
}

fn public(der: &[u8]) -> Result<RsaPublicKey, CryptoError> {
    RsaPublicKey::from_public_key_der(der).map_err(|_| bad_key())
}

/// Modulus length in bits and the public exponent (big-endian) of a key.
pub(crate) fn describe(private_key: bool, material: &[u8]) -> Result<(u32, Vec<u8>), CryptoError> {
    let (n, e) = if private_key {
        let key = private(material)?;
        (key.n().bits(), key.e().to_bytes_be())
    } else {
        let key = public(material)?;
        (key.n().bits(), key.e().to_bytes_be())
    };
    Ok((u32::try_from(n).map_err(|_| bad_key())?, e))
}

/// A fresh key pair; `interrupt` is asked between units of work and a
/// `true` abandons the generation.
pub(crate) fn generate(
    bits: u32,
    exponent: &[u8],
    interrupt: &dyn Fn() -> bool,
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let bits = bits as usize;
    check_size(bits)?;
    if bits > MAX_GENERATED_MODULUS_BITS {
        return Err(CryptoError::not_supported(format!(
            "Generating RSA keys of more than {MAX_GENERATED_MODULUS_BITS} bits is not supported"
        )));
    }
    let e = BigUint::from_bytes_be(exponent);
    if e != BigUint::from(3u32) && e != BigUint::from(65_537u32) {
        return Err(CryptoError::operation(
            "The public exponent must be 3 or 65537",
        ));
    }
    let key = crate::rsa_keygen::generate_key(bits, &e, interrupt)?;
    let private_der = key.to_pkcs8_der().map_err(CryptoError::operation)?;
    let public_der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(CryptoError::operation)?;
    Ok((
        private_der.as_bytes().to_vec(),
        public_der.as_bytes().to_vec(),
    ))
}

pub(crate) fn import_spki(der: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key = public(der)?;
    check_size(key.n().bits())?;
    Ok(key
        .to_public_key_der()
        .map_err(CryptoError::operation)?
        .as_bytes()
        .to_vec())
}

pub(crate) fn import_pkcs8(der: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key = private(der)?;
    check_size(key.n().bits())?;
    key.validate().map_err(|_| bad_key())?;
    Ok(key
        .to_pkcs8_der()
        .map_err(CryptoError::operation)?
        .as_bytes()
        .to_vec())
}

fn big(jwk_member: Option<&String>, name: &str) -> Result<BigUint, CryptoError> {
    Ok(BigUint::from_bytes_be(&jwk::member(jwk_member, name)?))
}

pub(crate) fn import_jwk(jwk: &Jwk) -> Result<(bool, Vec<u8>), CryptoError> {
    jwk::expect_kty(jwk, "RSA")?;
    let n = big(jwk.n.as_ref(), "n")?;
    let e = big(jwk.e.as_ref(), "e")?;
    check_size(n.bits())?;
    let Some(d) = jwk.d.as_ref() else {
        let key = RsaPublicKey::new(n, e).map_err(|_| bad_key())?;
        let der = key.to_public_key_der().map_err(CryptoError::operation)?;
        return Ok((false, der.as_bytes().to_vec()));
    };
    let d = big(Some(d), "d")?;
    let p = big(jwk.p.as_ref(), "p")?;
    let q = big(jwk.q.as_ref(), "q")?;
    let mut key = RsaPrivateKey::from_components(n, e, d, vec![p, q]).map_err(|_| bad_key())?;
    key.validate().map_err(|_| bad_key())?;
    key.precompute().map_err(|_| bad_key())?;
    // The CRT members, when given, must be the ones the primes imply.
    for (given, name, expected) in [
        (jwk.dp.as_ref(), "dp", key.dp().map(BigUint::to_bytes_be)),
        (jwk.dq.as_ref(), "dq", key.dq().map(BigUint::to_bytes_be)),
        (
            jwk.qi.as_ref(),
            "qi",
            key.crt_coefficient().map(|c| c.to_bytes_be()),
        ),
    ] {
        if let Some(given) = given {
            let given = BigUint::from_bytes_be(&jwk::member(Some(given), name)?).to_bytes_be();
            if Some(given) != expected {
                return Err(CryptoError::data(format!(
                    "The JWK member \"{name}\" does not match the key"
                )));
            }
        }
    }
    let der = key.to_pkcs8_der().map_err(CryptoError::operation)?;
    Ok((true, der.as_bytes().to_vec()))
}

pub(crate) fn export_jwk(private_key: bool, material: &[u8]) -> Result<Jwk, CryptoError> {
    let b = |x: &BigUint| Some(jwk::encode(&x.to_bytes_be()));
    if !private_key {
        let key = public(material)?;
        return Ok(Jwk {
            kty: "RSA".into(),
            n: b(key.n()),
            e: b(key.e()),
            ..Jwk::default()
        });
    }
    let mut key = private(material)?;
    key.precompute().map_err(|_| bad_key())?;
    let primes = key.primes();
    if primes.len() != 2 {
        return Err(CryptoError::not_supported(
            "Multi-prime RSA keys cannot be exported",
        ));
    }
    Ok(Jwk {
        kty: "RSA".into(),
        n: b(key.n()),
        e: b(key.e()),
        d: b(key.d()),
        p: b(&primes[0]),
        q: b(&primes[1]),
        dp: key.dp().and_then(b),
        dq: key.dq().and_then(b),
        qi: key.crt_coefficient().as_ref().and_then(b),
        ..Jwk::default()
    })
}

pub(crate) fn public_of(pkcs8: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key = private(pkcs8)?;
    Ok(key
        .to_public_key()
        .to_public_key_der()
        .map_err(CryptoError::operation)?
        .as_bytes()
        .to_vec())
}

fn pkcs1v15(hash: Hash) -> Pkcs1v15Sign {
    match hash {
        Hash::Sha1 => Pkcs1v15Sign::new::<Sha1>(),
        Hash::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
        Hash::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
        Hash::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
    }
}

fn pss(hash: Hash, salt: usize) -> Pss {
    match hash {
        Hash::Sha1 => Pss::new_with_salt::<Sha1>(salt),
        Hash::Sha256 => Pss::new_with_salt::<Sha256>(salt),
        Hash::Sha384 => Pss::new_with_salt::<Sha384>(salt),
        Hash::Sha512 => Pss::new_with_salt::<Sha512>(salt),
    }
}

/// An RSA signature of the `hash` of `data`.
pub fn rsa_sign(
    scheme: RsaScheme,
    hash: Hash,
    pkcs8: &[u8],
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let key = private(pkcs8)?;
    let hashed = digest(hash, data);
    let signed = match scheme {
        RsaScheme::Pkcs1v15 => key.sign(pkcs1v15(hash), &hashed),
        RsaScheme::Pss(salt) => key.sign_with_rng(&mut OsRng, pss(hash, salt), &hashed),
    };
    signed.map_err(|_| {
        CryptoError::operation("RSA signing failed (is the salt too long for the key?)")
    })
}

/// Whether `signature` is an RSA signature of the `hash` of `data`.
pub fn rsa_verify(
    scheme: RsaScheme,
    hash: Hash,
    spki: &[u8],
    data: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    let key = public(spki)?;
    let hashed = digest(hash, data);
    let verified = match scheme {
        RsaScheme::Pkcs1v15 => key.verify(pkcs1v15(hash), &hashed, signature),
        RsaScheme::Pss(salt) => key.verify(pss(hash, salt), &hashed, signature),
    };
    Ok(verified.is_ok())
}

fn oaep(hash: Hash, label: &[u8]) -> Result<Oaep, CryptoError> {
    if label.is_empty() {
        return Ok(match hash {
            Hash::Sha1 => Oaep::new::<Sha1>(),
            Hash::Sha256 => Oaep::new::<Sha256>(),
            Hash::Sha384 => Oaep::new::<Sha384>(),
            Hash::Sha512 => Oaep::new::<Sha512>(),
        });
    }
    // The `rsa` crate takes labels as strings.
    let label = std::str::from_utf8(label)
        .map_err(|_| CryptoError::not_supported("RSA-OAEP labels must be UTF-8 here"))?
        .to_owned();
    Ok(match hash {
        Hash::Sha1 => Oaep::new_with_label::<Sha1, _>(label),
        Hash::Sha256 => Oaep::new_with_label::<Sha256, _>(label),
        Hash::Sha384 => Oaep::new_with_label::<Sha384, _>(label),
        Hash::Sha512 => Oaep::new_with_label::<Sha512, _>(label),
    })
}

/// RSA-OAEP: encrypt with the SPKI public key or decrypt with the PKCS#8
/// private key.
pub fn rsa_oaep(
    direction: Direction,
    hash: Hash,
    label: &[u8],
    material: &[u8],
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let padding = oaep(hash, label)?;
    match direction {
        Direction::Encrypt => public(material)?
            .encrypt(&mut OsRng, padding, data)
            .map_err(|_| CryptoError::operation("The data is too long for RSA-OAEP with this key")),
        Direction::Decrypt => private(material)?.decrypt(padding, data).map_err(|_| {
            CryptoError::operation("The operation failed for an operation-specific reason")
        }),
    }
}
