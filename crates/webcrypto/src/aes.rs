//! AES-GCM, AES-CBC and AES-CTR with 128-, 192- and 256-bit keys.

use aes::cipher::{
    BlockDecryptMut, BlockEncrypt, BlockEncryptMut, KeyInit, KeyIvInit, block_padding::Pkcs7,
    generic_array::GenericArray,
};
use aes::{Aes128, Aes192, Aes256};
use aes_gcm::AesGcm;
use aes_gcm::aead::consts::{U12, U13, U14, U15, U16};
use aes_gcm::aead::{Aead, Payload};

use crate::{CryptoError, Direction};

fn bad_key_length() -> CryptoError {
    CryptoError::data("AES keys must be 128, 192 or 256 bits long")
}

macro_rules! gcm_with_tag {
    ($aes:ty, $nonce:ty, $tag_bytes:expr, $key:expr, |$cipher:ident| $body:expr) => {
        match $tag_bytes {
            12 => {
                let $cipher = AesGcm::<$aes, $nonce, U12>::new_from_slice($key)
                    .map_err(|_| bad_key_length())?;
                $body
            }
            13 => {
                let $cipher = AesGcm::<$aes, $nonce, U13>::new_from_slice($key)
                    .map_err(|_| bad_key_length())?;
                $body
            }
            14 => {
                let $cipher = AesGcm::<$aes, $nonce, U14>::new_from_slice($key)
                    .map_err(|_| bad_key_length())?;
                $body
            }
            15 => {
                let $cipher = AesGcm::<$aes, $nonce, U15>::new_from_slice($key)
                    .map_err(|_| bad_key_length())?;
                $body
            }
            16 => {
                let $cipher = AesGcm::<$aes, $nonce, U16>::new_from_slice($key)
                    .map_err(|_| bad_key_length())?;
                $body
            }
            _ => Err(CryptoError::operation(
                "AES-GCM tagLength must be 96, 104, 112, 120 or 128 bits",
            )),
        }
    };
}

macro_rules! gcm_with_key {
    ($nonce:ty, $tag_bytes:expr, $key:expr, |$cipher:ident| $body:expr) => {
        match $key.len() {
            16 => gcm_with_tag!(Aes128, $nonce, $tag_bytes, $key, |$cipher| $body),
            24 => gcm_with_tag!(Aes192, $nonce, $tag_bytes, $key, |$cipher| $body),
            32 => gcm_with_tag!(Aes256, $nonce, $tag_bytes, $key, |$cipher| $body),
            _ => Err(bad_key_length()),
        }
    };
}

/// AES-GCM. The ciphertext carries the tag at its end, as Web Crypto's does.
/// IVs of 12 bytes (the recommended size) and 16 bytes are supported; tags
/// of 96 to 128 bits.
pub fn aes_gcm(
    direction: Direction,
    key: &[u8],
    iv: &[u8],
    additional_data: &[u8],
    tag_bits: u32,
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if !tag_bits.is_multiple_of(8) {
        return Err(CryptoError::operation(
            "AES-GCM tagLength must be a multiple of 8",
        ));
    }
    let tag_bytes = (tag_bits / 8) as usize;
    let payload = Payload {
        msg: data,
        aad: additional_data,
    };
    let failed = || match direction {
        Direction::Encrypt => CryptoError::operation("AES-GCM encryption failed"),
        Direction::Decrypt => {
            CryptoError::operation("The operation failed for an operation-specific reason")
        }
    };
    match iv.len() {
        12 => gcm_with_key!(U12, tag_bytes, key, |cipher| {
            let nonce = GenericArray::from_slice(iv);
            match direction {
                Direction::Encrypt => cipher.encrypt(nonce, payload).map_err(|_| failed()),
                Direction::Decrypt => cipher.decrypt(nonce, payload).map_err(|_| failed()),
            }
        }),
        16 => gcm_with_key!(U16, tag_bytes, key, |cipher| {
            let nonce = GenericArray::from_slice(iv);
            match direction {
                Direction::Encrypt => cipher.encrypt(nonce, payload).map_err(|_| failed()),
                Direction::Decrypt => cipher.decrypt(nonce, payload).map_err(|_| failed()),
            }
        }),
        n => Err(CryptoError::not_supported(format!(
            "AES-GCM IVs of {n} bytes are not supported here; use 12 (recommended) or 16"
        ))),
    }
}

/// AES-CBC with PKCS#7 padding; `iv` must be 16 bytes.
pub fn aes_cbc(
    direction: Direction,
    key: &[u8],
    iv: &[u8],
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if iv.len() != 16 {
        return Err(CryptoError::operation("AES-CBC iv must be 16 bytes"));
    }
    macro_rules! run {
        ($aes:ty) => {
            match direction {
                Direction::Encrypt => Ok(cbc::Encryptor::<$aes>::new_from_slices(key, iv)
                    .map_err(|_| bad_key_length())?
                    .encrypt_padded_vec_mut::<Pkcs7>(data)),
                Direction::Decrypt => cbc::Decryptor::<$aes>::new_from_slices(key, iv)
                    .map_err(|_| bad_key_length())?
                    .decrypt_padded_vec_mut::<Pkcs7>(data)
                    .map_err(|_| {
                        CryptoError::operation("The provided data has bad padding or length")
                    }),
            }
        };
    }
    match key.len() {
        16 => run!(Aes128),
        24 => run!(Aes192),
        32 => run!(Aes256),
        _ => Err(bad_key_length()),
    }
}

enum Block {
    A128(Aes128),
    A192(Aes192),
    A256(Aes256),
}

impl Block {
    fn new(key: &[u8]) -> Result<Self, CryptoError> {
        Ok(match key.len() {
            16 => Block::A128(Aes128::new_from_slice(key).map_err(|_| bad_key_length())?),
            24 => Block::A192(Aes192::new_from_slice(key).map_err(|_| bad_key_length())?),
            32 => Block::A256(Aes256::new_from_slice(key).map_err(|_| bad_key_length())?),
            _ => return Err(bad_key_length()),
        })
    }

    fn encrypt(&self, block: &mut [u8; 16]) {
        let b = GenericArray::from_mut_slice(block);
        match self {
            Block::A128(c) => c.encrypt_block(b),
            Block::A192(c) => c.encrypt_block(b),
            Block::A256(c) => c.encrypt_block(b),
        }
    }
}

/// AES-CTR (encryption and decryption are the same). The rightmost
/// `length` bits of the 16-byte `counter` are the block counter, which wraps
/// within those bits; data that would reuse a counter value is refused.
pub fn aes_ctr(
    key: &[u8],
    counter: &[u8],
    length: u32,
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let counter: [u8; 16] = counter
        .try_into()
        .map_err(|_| CryptoError::operation("AES-CTR counter must be 16 bytes"))?;
    if length == 0 || length > 128 {
        return Err(CryptoError::operation(
            "AES-CTR length must be between 1 and 128",
        ));
    }
    let blocks = data.len().div_ceil(16) as u128;
    if length < 128 && blocks > (1u128 << length) {
        return Err(CryptoError::operation(
            "AES-CTR counter would wrap around and repeat",
        ));
    }
    let cipher = Block::new(key)?;
    let initial = u128::from_be_bytes(counter);
    let mask = if length == 128 {
        u128::MAX
    } else {
        (1u128 << length) - 1
    };
    let fixed = initial & !mask;
    let mut out = Vec::with_capacity(data.len());
    for (i, chunk) in data.chunks(16).enumerate() {
        let count = (initial & mask).wrapping_add(i as u128) & mask;
        let mut block = (fixed | count).to_be_bytes();
        cipher.encrypt(&mut block);
        out.extend(chunk.iter().zip(block).map(|(d, k)| d ^ k));
    }
    Ok(out)
}
