use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::CryptoError;

/// The key members of a JSON Web Key (RFC 7517/7518/8037). The glue checks
/// `alg`, `use`, `key_ops` and `ext` against the algorithm; this crate reads
/// and writes the key material. Binary members are base64url without
/// padding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jwk {
    /// `oct`, `EC`, `OKP` or `RSA`.
    pub kty: String,
    /// Curve name for `EC` and `OKP` keys.
    pub crv: Option<String>,
    /// Symmetric key.
    pub k: Option<String>,
    /// EC x coordinate / OKP public key.
    pub x: Option<String>,
    /// EC y coordinate.
    pub y: Option<String>,
    /// Private scalar / OKP private key / RSA private exponent.
    pub d: Option<String>,
    /// RSA modulus.
    pub n: Option<String>,
    /// RSA public exponent.
    pub e: Option<String>,
    /// RSA first prime.
    pub p: Option<String>,
    /// RSA second prime.
    pub q: Option<String>,
    /// RSA first CRT exponent.
    pub dp: Option<String>,
    /// RSA second CRT exponent.
    pub dq: Option<String>,
    /// RSA CRT coefficient.
    pub qi: Option<String>,
}

pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a required base64url member.
pub(crate) fn member(value: Option<&String>, name: &str) -> Result<Vec<u8>, CryptoError> {
    let value =
        value.ok_or_else(|| CryptoError::data(format!("The JWK member \"{name}\" is missing")))?;
    URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .map_err(|_| CryptoError::data(format!("The JWK member \"{name}\" is not valid base64url")))
}

pub(crate) fn expect_kty(jwk: &Jwk, kty: &str) -> Result<(), CryptoError> {
    if jwk.kty == kty {
        Ok(())
    } else {
        Err(CryptoError::data(format!(
            "The JWK \"kty\" member must be \"{kty}\""
        )))
    }
}
