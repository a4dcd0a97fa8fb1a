//! RSA key generation that can be abandoned between units of work.
//!
//! The `rsa` crate's generator is one uninterruptible loop of seconds for
//! 4096-bit keys. A guest's CPU limit must hold through it, so the prime
//! search is done here: the caller's `interrupt` is asked before each
//! candidate and before each Miller–Rabin round (a few milliseconds each
//! at 2048-bit primes), and a `true` abandons the generation.
//!
//! The primes are chosen as the `rsa` crate chooses them: uniformly random,
//! the top two bits set so that the product has its full length, and
//! accepted after a Baillie–PSW test plus 20 Miller–Rabin rounds with random
//! bases.

use num_bigint_dig::prime::probably_prime;
use rand_core::{OsRng, RngCore};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey};

use crate::CryptoError;

/// Miller–Rabin rounds with random bases after the Baillie–PSW test.
const EXTRA_ROUNDS: usize = 20;

/// A fresh key of exactly `bits` bits with public exponent `e` (3 or
/// 65537), or an error once `interrupt` returns true.
pub(crate) fn generate_key(
    bits: usize,
    e: &BigUint,
    interrupt: &dyn Fn() -> bool,
) -> Result<RsaPrivateKey, CryptoError> {
    loop {
        let p = random_prime(bits / 2, e, interrupt)?;
        let q = random_prime(bits - bits / 2, e, interrupt)?;
        if p == q {
            continue;
        }
        match RsaPrivateKey::from_p_q(p, q, e.clone()) {
            Ok(key) if key.n().bits() == bits => return Ok(key),
            _ => continue,
        }
    }
}

fn interrupted() -> CryptoError {
    CryptoError::operation("Key generation was interrupted by a limit")
}

/// A random prime of `bits` bits (at least 16) whose predecessor is not a
/// multiple of the prime `e`, so that `e` is invertible.
fn random_prime(
    bits: usize,
    e: &BigUint,
    interrupt: &dyn Fn() -> bool,
) -> Result<BigUint, CryptoError> {
    let mut bytes = vec![0u8; bits.div_ceil(8)];
    // Bits used in the first byte (1..=8).
    let top = bits - (bytes.len() - 1) * 8;
    loop {
        if interrupt() {
            return Err(interrupted());
        }
        OsRng.fill_bytes(&mut bytes);
        bytes[0] &= u8::MAX >> (8 - top);
        if top >= 2 {
            bytes[0] |= 0b11 << (top - 2);
        } else {
            bytes[0] |= 1;
            bytes[1] |= 0x80;
        }
        if let Some(last) = bytes.last_mut() {
            *last |= 1;
        }
        let candidate = BigUint::from_bytes_be(&bytes);
        // Trial division, Miller–Rabin to base 2 and a strong Lucas test.
        if !probably_prime(&candidate, 0) {
            continue;
        }
        let one = BigUint::from(1u32);
        if ((&candidate - &one) % e) == BigUint::from(0u32) {
            continue;
        }
        let mut passed = true;
        for _ in 0..EXTRA_ROUNDS {
            if interrupt() {
                return Err(interrupted());
            }
            if !passes_miller_rabin(&candidate, &random_base(&candidate)) {
                passed = false;
                break;
            }
        }
        if passed {
            return Ok(candidate);
        }
    }
}

/// A random base in `[2, n - 2]` (`n` odd and large).
fn random_base(n: &BigUint) -> BigUint {
    let mut bytes = vec![0u8; n.bits().div_ceil(8) + 8];
    OsRng.fill_bytes(&mut bytes);
    let span = n - BigUint::from(3u32);
    BigUint::from_bytes_be(&bytes) % span + BigUint::from(2u32)
}

/// One Miller–Rabin round: whether odd `n` is a strong probable prime to
/// `base`.
fn passes_miller_rabin(n: &BigUint, base: &BigUint) -> bool {
    let one = BigUint::from(1u32);
    let n_minus_1 = n - &one;
    let Some(k) = n_minus_1.trailing_zeros() else {
        return false;
    };
    let odd = &n_minus_1 >> k;
    let mut x = base.modpow(&odd, n);
    if x == one || x == n_minus_1 {
        return true;
    }
    for _ in 1..k {
        x = (&x * &x) % n;
        if x == n_minus_1 {
            return true;
        }
        if x == one {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn miller_rabin_tells_primes_from_composites() {
        let prime = BigUint::from(1_000_000_007u32);
        let carmichael = BigUint::from(561u32);
        assert!((2u32..50).all(|a| passes_miller_rabin(&prime, &BigUint::from(a))));
        // 561 = 3·11·17 fools Fermat, not Miller–Rabin to base 2.
        assert!(!passes_miller_rabin(&carmichael, &BigUint::from(2u32)));
    }

    #[test]
    fn generated_keys_have_the_asked_size_and_work() {
        let e = BigUint::from(65_537u32);
        for bits in [512, 1024, 1032] {
            let key = generate_key(bits, &e, &|| false).expect("generated");
            assert_eq!(key.n().bits(), bits);
            key.validate().expect("a valid key");
        }
        let key = generate_key(768, &BigUint::from(3u32), &|| false).expect("generated");
        key.validate().expect("a valid key with e = 3");
    }

    #[test]
    fn an_interrupt_abandons_the_search_at_once() {
        let asked = Cell::new(0u32);
        let stop_after_three = || {
            asked.set(asked.get() + 1);
            asked.get() > 3
        };
        let result = generate_key(4096, &BigUint::from(65_537u32), &stop_after_three);
        assert!(result.is_err());
        assert_eq!(asked.get(), 4, "asked again after saying stop");
    }
}
