use hkdf::Hkdf;
use hmac::Hmac;
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};

use crate::{CryptoError, Hash};

/// The most PBKDF2 iterations one `deriveBits` may ask for. Each iteration
/// is a host-side HMAC the engine's CPU watchdog cannot interrupt, so the
/// cap bounds how long one call can hold the executor thread (about a
/// second for SHA-512 on a 2020s core).
pub const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;

/// The most HMAC iterations one PBKDF2 derivation may cost in all: each
/// block of output (one hash length) costs `iterations` of them, so a long
/// output at a high count is refused even under the iteration cap.
pub const MAX_PBKDF2_WORK: u64 = 2_000_000;

/// The largest derivation, in bits, either KDF produces in one call.
const MAX_BITS: u32 = 1 << 16;

fn output_len(bits: u32) -> Result<usize, CryptoError> {
    if bits == 0 {
        return Err(CryptoError::operation(
            "The length must be greater than zero",
        ));
    }
    if !bits.is_multiple_of(8) {
        return Err(CryptoError::operation("The length must be a multiple of 8"));
    }
    if bits > MAX_BITS {
        return Err(CryptoError::operation(format!(
            "The length must be at most {MAX_BITS} bits"
        )));
    }
    Ok((bits / 8) as usize)
}

/// PBKDF2 with HMAC over `hash`.
pub fn pbkdf2(
    hash: Hash,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    bits: u32,
) -> Result<Vec<u8>, CryptoError> {
    if iterations == 0 {
        return Err(CryptoError::operation(
            "PBKDF2 iterations must be greater than zero",
        ));
    }
    if iterations > MAX_PBKDF2_ITERATIONS {
        return Err(CryptoError::not_supported(format!(
            "PBKDF2 with more than {MAX_PBKDF2_ITERATIONS} iterations is not supported"
        )));
    }
    let len = output_len(bits)?;
    let blocks = len.div_ceil(hash_len(hash)) as u64;
    if blocks * u64::from(iterations) > MAX_PBKDF2_WORK {
        return Err(CryptoError::not_supported(format!(
            "PBKDF2 deriving {bits} bits at {iterations} iterations costs more than {MAX_PBKDF2_WORK} HMAC iterations, which is not supported"
        )));
    }
    let mut out = vec![0u8; len];
    let result = match hash {
        Hash::Sha1 => pbkdf2::pbkdf2::<Hmac<Sha1>>(password, salt, iterations, &mut out),
        Hash::Sha256 => pbkdf2::pbkdf2::<Hmac<Sha256>>(password, salt, iterations, &mut out),
        Hash::Sha384 => pbkdf2::pbkdf2::<Hmac<Sha384>>(password, salt, iterations, &mut out),
        Hash::Sha512 => pbkdf2::pbkdf2::<Hmac<Sha512>>(password, salt, iterations, &mut out),
    };
    result.map_err(|_| CryptoError::operation("PBKDF2 failed"))?;
    Ok(out)
}

/// The output length of `hash`, in bytes.
fn hash_len(hash: Hash) -> usize {
    match hash {
        Hash::Sha1 => 20,
        Hash::Sha256 => 32,
        Hash::Sha384 => 48,
        Hash::Sha512 => 64,
    }
}

/// HKDF (extract then expand) over `hash`.
pub fn hkdf(
    hash: Hash,
    key: &[u8],
    salt: &[u8],
    info: &[u8],
    bits: u32,
) -> Result<Vec<u8>, CryptoError> {
    let mut out = vec![0u8; output_len(bits)?];
    let too_long = |_| CryptoError::operation("HKDF cannot derive that many bits with this hash");
    match hash {
        Hash::Sha1 => Hkdf::<Sha1>::new(Some(salt), key)
            .expand(info, &mut out)
            .map_err(too_long)?,
        Hash::Sha256 => Hkdf::<Sha256>::new(Some(salt), key)
            .expand(info, &mut out)
            .map_err(too_long)?,
        Hash::Sha384 => Hkdf::<Sha384>::new(Some(salt), key)
            .expand(info, &mut out)
            .map_err(too_long)?,
        Hash::Sha512 => Hkdf::<Sha512>::new(Some(salt), key)
            .expand(info, &mut out)
            .map_err(too_long)?,
    }
    Ok(out)
}
