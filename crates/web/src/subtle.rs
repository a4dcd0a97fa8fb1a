//! `crypto.subtle` on the host side: the glue (`web/crypto.js`) normalizes
//! algorithms, checks keys and usages, and hands each operation here as one
//! plain-data request; `isola-webcrypto` does the cryptography.
//!
//! Key material lives in the guest heap inside `CryptoKey` private fields
//! and comes back with every request, so the host keeps no per-key state.

use isola_webcrypto as wc;
use wc::{CryptoError, Direction, Format, Hash, Jwk, KeyData, KeyKind};

use isola_engine::Value;

/// A failed request: a `DOMException` name (or `TypeError`) and a message.
#[derive(Debug)]
pub(crate) struct SubtleError {
    pub(crate) name: &'static str,
    pub(crate) message: String,
}

impl From<CryptoError> for SubtleError {
    fn from(e: CryptoError) -> Self {
        Self {
            name: e.name.as_str(),
            message: e.message,
        }
    }
}

fn malformed(what: &str) -> SubtleError {
    SubtleError {
        name: "TypeError",
        message: format!("isola: malformed crypto request ({what})"),
    }
}

/// The members of a request object.
struct Params(Vec<(String, Value)>);

impl Params {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    fn str(&self, name: &str) -> Result<&str, SubtleError> {
        match self.get(name) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(malformed(name)),
        }
    }

    fn opt_str(&self, name: &str) -> Option<String> {
        match self.get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        }
    }

    fn bytes(&self, name: &str) -> Result<&[u8], SubtleError> {
        match self.get(name) {
            Some(Value::TypedArray { bytes, .. } | Value::ArrayBuffer(bytes)) => Ok(bytes),
            _ => Err(malformed(name)),
        }
    }

    /// An optional buffer, empty when absent.
    fn bytes_or_empty(&self, name: &str) -> Result<&[u8], SubtleError> {
        match self.get(name) {
            None | Some(Value::Undefined) => Ok(&[]),
            _ => self.bytes(name),
        }
    }

    fn u32(&self, name: &str) -> Result<u32, SubtleError> {
        match self.get(name) {
            Some(Value::Number(n))
                if n.fract() == 0.0 && *n >= 0.0 && *n <= f64::from(u32::MAX) =>
            {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Ok(*n as u32)
            }
            _ => Err(malformed(name)),
        }
    }

    fn bool(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Value::Bool(true)))
    }

    fn hash(&self) -> Result<Hash, SubtleError> {
        Hash::from_name(self.str("hash")?).ok_or_else(|| malformed("hash"))
    }

    fn kind(&self) -> Result<KeyKind, SubtleError> {
        Ok(match self.str("kind")? {
            "secret" => KeyKind::Secret,
            "ec" => KeyKind::Ec(
                wc::Curve::from_name(self.str("curve")?).ok_or_else(|| malformed("curve"))?,
            ),
            "ed25519" => KeyKind::Ed25519,
            "rsa" => KeyKind::Rsa,
            _ => return Err(malformed("kind")),
        })
    }

    fn direction(op: &str) -> Direction {
        if op == "decrypt" {
            Direction::Decrypt
        } else {
            Direction::Encrypt
        }
    }
}

fn buffer(bytes: Vec<u8>) -> Value {
    Value::ArrayBuffer(bytes)
}

fn object(members: Vec<(&str, Value)>) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// Runs one request.
/// Runs one Web Crypto operation. `interrupt` is asked between units of
/// work by the operations long enough to need it (RSA key generation); a
/// `true` abandons the operation.
pub(crate) fn run(
    op: &str,
    params: Value,
    interrupt: &dyn Fn() -> bool,
) -> Result<Value, SubtleError> {
    let Value::Object(members) = params else {
        return Err(malformed("params"));
    };
    let p = Params(members);
    match op {
        "digest" => Ok(buffer(wc::digest(p.hash()?, p.bytes("data")?))),
        "random" => {
            let mut bytes = vec![0u8; p.u32("length")? as usize];
            getrandom::fill(&mut bytes).map_err(|_| SubtleError {
                name: "OperationError",
                message: "no OS randomness".into(),
            })?;
            Ok(buffer(bytes))
        }
        "sign" => sign(&p).map(buffer),
        "verify" => verify(&p).map(Value::Bool),
        "encrypt" | "decrypt" => cipher(&p, Params::direction(op)).map(buffer),
        "deriveBits" => derive(&p).map(buffer),
        "import" => import(&p),
        "export" => export(&p),
        "generate" => generate(&p, interrupt),
        _ => Err(malformed("op")),
    }
}

fn sign(p: &Params) -> Result<Vec<u8>, SubtleError> {
    let key = p.bytes("material")?;
    let data = p.bytes("data")?;
    Ok(match p.str("alg")? {
        "HMAC" => wc::hmac_sign(p.hash()?, key, data)?,
        "ECDSA" => wc::ecdsa_sign(curve(p)?, p.hash()?, key, data)?,
        "Ed25519" => wc::ed25519_sign(key, data)?,
        "RSASSA-PKCS1-v1_5" => wc::rsa_sign(wc::RsaScheme::Pkcs1v15, p.hash()?, key, data)?,
        "RSA-PSS" => wc::rsa_sign(
            wc::RsaScheme::Pss(p.u32("saltLength")? as usize),
            p.hash()?,
            key,
            data,
        )?,
        _ => return Err(malformed("alg")),
    })
}

fn verify(p: &Params) -> Result<bool, SubtleError> {
    let key = p.bytes("material")?;
    let data = p.bytes("data")?;
    let signature = p.bytes("signature")?;
    Ok(match p.str("alg")? {
        "HMAC" => wc::hmac_verify(p.hash()?, key, data, signature)?,
        "ECDSA" => wc::ecdsa_verify(curve(p)?, p.hash()?, key, data, signature)?,
        "Ed25519" => wc::ed25519_verify(key, data, signature)?,
        "RSASSA-PKCS1-v1_5" => {
            wc::rsa_verify(wc::RsaScheme::Pkcs1v15, p.hash()?, key, data, signature)?
        }
        "RSA-PSS" => wc::rsa_verify(
            wc::RsaScheme::Pss(p.u32("saltLength")? as usize),
            p.hash()?,
            key,
            data,
            signature,
        )?,
        _ => return Err(malformed("alg")),
    })
}

fn curve(p: &Params) -> Result<wc::Curve, SubtleError> {
    wc::Curve::from_name(p.str("curve")?).ok_or_else(|| malformed("curve"))
}

fn cipher(p: &Params, direction: Direction) -> Result<Vec<u8>, SubtleError> {
    let key = p.bytes("material")?;
    let data = p.bytes("data")?;
    Ok(match p.str("alg")? {
        "AES-GCM" => wc::aes_gcm(
            direction,
            key,
            p.bytes("iv")?,
            p.bytes_or_empty("additionalData")?,
            p.u32("tagLength")?,
            data,
        )?,
        "AES-CBC" => wc::aes_cbc(direction, key, p.bytes("iv")?, data)?,
        "AES-CTR" => wc::aes_ctr(key, p.bytes("counter")?, p.u32("length")?, data)?,
        "RSA-OAEP" => wc::rsa_oaep(direction, p.hash()?, p.bytes_or_empty("label")?, key, data)?,
        _ => return Err(malformed("alg")),
    })
}

fn derive(p: &Params) -> Result<Vec<u8>, SubtleError> {
    let key = p.bytes("material")?;
    let bits = p.u32("length")?;
    Ok(match p.str("alg")? {
        "PBKDF2" => wc::pbkdf2(p.hash()?, key, p.bytes("salt")?, p.u32("iterations")?, bits)?,
        "HKDF" => wc::hkdf(p.hash()?, key, p.bytes("salt")?, p.bytes("info")?, bits)?,
        _ => return Err(malformed("alg")),
    })
}

const JWK_MEMBERS: [&str; 11] = ["k", "x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi"];

fn jwk_from(value: &Value) -> Result<Jwk, SubtleError> {
    let Value::Object(members) = value else {
        return Err(malformed("jwk"));
    };
    let jwk = Params(members.clone());
    let field = |name: &str| jwk.opt_str(name);
    Ok(Jwk {
        kty: field("kty").unwrap_or_default(),
        crv: field("crv"),
        k: field("k"),
        x: field("x"),
        y: field("y"),
        d: field("d"),
        n: field("n"),
        e: field("e"),
        p: field("p"),
        q: field("q"),
        dp: field("dp"),
        dq: field("dq"),
        qi: field("qi"),
    })
}

fn jwk_to(jwk: Jwk) -> Value {
    let mut members = vec![("kty".to_owned(), Value::String(jwk.kty))];
    if let Some(crv) = jwk.crv {
        members.push(("crv".to_owned(), Value::String(crv)));
    }
    let values = [
        jwk.k, jwk.x, jwk.y, jwk.d, jwk.n, jwk.e, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi,
    ];
    for (name, value) in JWK_MEMBERS.iter().zip(values) {
        if let Some(value) = value {
            members.push(((*name).to_owned(), Value::String(value)));
        }
    }
    Value::Object(members)
}

/// RSA keys report their modulus length and exponent back to the glue,
/// which puts them in `key.algorithm`.
fn with_rsa_parameters(
    kind: KeyKind,
    private: bool,
    material: &[u8],
    mut members: Vec<(&str, Value)>,
) -> Result<Value, SubtleError> {
    if kind == KeyKind::Rsa {
        let (bits, exponent) = wc::rsa_parameters(private, material)?;
        members.push(("modulusLength", Value::Number(f64::from(bits))));
        members.push(("publicExponent", buffer(exponent)));
    }
    Ok(object(members))
}

fn import(p: &Params) -> Result<Value, SubtleError> {
    let kind = p.kind()?;
    let format = Format::from_name(p.str("format")?).ok_or_else(|| malformed("format"))?;
    let data = match format {
        Format::Jwk => KeyData::Jwk(Box::new(jwk_from(
            p.get("jwk").ok_or_else(|| malformed("jwk"))?,
        )?)),
        _ => KeyData::Bytes(p.bytes("data")?.to_vec()),
    };
    let imported = wc::import_key(kind, format, data)?;
    let material = imported.material;
    let private = imported.private;
    with_rsa_parameters(
        kind,
        private,
        &material,
        vec![
            ("private", Value::Bool(private)),
            ("material", buffer(material.clone())),
        ],
    )
}

fn export(p: &Params) -> Result<Value, SubtleError> {
    let kind = p.kind()?;
    let format = Format::from_name(p.str("format")?).ok_or_else(|| malformed("format"))?;
    match wc::export_key(kind, format, p.bool("private"), p.bytes("material")?)? {
        KeyData::Bytes(bytes) => Ok(buffer(bytes)),
        KeyData::Jwk(jwk) => Ok(jwk_to(*jwk)),
    }
}

fn generate(p: &Params, interrupt: &dyn Fn() -> bool) -> Result<Value, SubtleError> {
    let kind = p.kind()?;
    let (bits, exponent) = if kind == KeyKind::Rsa {
        (p.u32("modulusLength")?, p.bytes("publicExponent")?.to_vec())
    } else {
        (0, Vec::new())
    };
    let pair = wc::generate_pair(kind, bits, &exponent, interrupt)?;
    let public = pair.public;
    with_rsa_parameters(
        kind,
        false,
        &public,
        vec![
            ("private", buffer(pair.private)),
            ("public", buffer(public.clone())),
        ],
    )
}
