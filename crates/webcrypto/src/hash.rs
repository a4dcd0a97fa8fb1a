use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::CryptoError;

/// A digest algorithm of the Web Crypto spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// SHA-1 (for compatibility; not for new signatures).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Hash {
    /// The hash named as Web Crypto names it (`SHA-256`), case-insensitive.
    pub fn from_name(name: &str) -> Option<Hash> {
        match name.to_ascii_uppercase().as_str() {
            "SHA-1" => Some(Hash::Sha1),
            "SHA-256" => Some(Hash::Sha256),
            "SHA-384" => Some(Hash::Sha384),
            "SHA-512" => Some(Hash::Sha512),
            _ => None,
        }
    }

    /// The Web Crypto name.
    pub fn name(self) -> &'static str {
        match self {
            Hash::Sha1 => "SHA-1",
            Hash::Sha256 => "SHA-256",
            Hash::Sha384 => "SHA-384",
            Hash::Sha512 => "SHA-512",
        }
    }

    /// Output length in bytes.
    pub fn output_bytes(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    /// The HMAC block size in bits: the default HMAC key length.
    pub fn block_bits(self) -> u32 {
        match self {
            Hash::Sha1 | Hash::Sha256 => 512,
            Hash::Sha384 | Hash::Sha512 => 1024,
        }
    }

    /// The JWK `alg` suffix: `HS256` is `"256"`, `HS1` is `"1"`.
    pub fn jwk_suffix(self) -> &'static str {
        match self {
            Hash::Sha1 => "1",
            Hash::Sha256 => "256",
            Hash::Sha384 => "384",
            Hash::Sha512 => "512",
        }
    }
}

/// The digest of `data`.
pub fn digest(hash: Hash, data: &[u8]) -> Vec<u8> {
    match hash {
        Hash::Sha1 => Sha1::digest(data).to_vec(),
        Hash::Sha256 => Sha256::digest(data).to_vec(),
        Hash::Sha384 => Sha384::digest(data).to_vec(),
        Hash::Sha512 => Sha512::digest(data).to_vec(),
    }
}

macro_rules! with_hmac {
    ($hash:expr, $key:expr, |$mac:ident| $body:expr) => {
        match $hash {
            Hash::Sha1 => {
                let mut $mac =
                    <Hmac<Sha1>>::new_from_slice($key).map_err(CryptoError::operation)?;
                $body
            }
            Hash::Sha256 => {
                let mut $mac =
                    <Hmac<Sha256>>::new_from_slice($key).map_err(CryptoError::operation)?;
                $body
            }
            Hash::Sha384 => {
                let mut $mac =
                    <Hmac<Sha384>>::new_from_slice($key).map_err(CryptoError::operation)?;
                $body
            }
            Hash::Sha512 => {
                let mut $mac =
                    <Hmac<Sha512>>::new_from_slice($key).map_err(CryptoError::operation)?;
                $body
            }
        }
    };
}

/// The HMAC of `data` under `key`.
pub fn hmac_sign(hash: Hash, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    with_hmac!(hash, key, |mac| {
        mac.update(data);
        Ok(mac.finalize().into_bytes().to_vec())
    })
}

/// Whether `signature` is the HMAC of `data` under `key` (constant time).
pub fn hmac_verify(
    hash: Hash,
    key: &[u8],
    data: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    with_hmac!(hash, key, |mac| {
        mac.update(data);
        Ok(mac.verify_slice(signature).is_ok())
    })
}
