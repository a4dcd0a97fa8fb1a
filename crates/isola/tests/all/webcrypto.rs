//! `crypto.subtle`, against published test vectors (RFC 4231, 5869, 6070,
//! 6979, 8032, NIST SP 800-38A and the GCM spec) and against keys and
//! signatures made by OpenSSL (through Python's `cryptography`), so both
//! directions of interoperability are checked, not only round trips.

use isola::Value;
use serde_json::json;

use crate::support::*;

/// Runs `body` (the inside of an async function with `hex`, `unhex`, `b64u`,
/// `enc` and `subtle` in scope) and returns what it returns.
fn crypto(body: &str) -> serde_json::Value {
    let source = format!(
        r#"export default {{ async go() {{
            const subtle = crypto.subtle;
            const enc = (s) => new TextEncoder().encode(s);
            const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
            const unhex = (h) => new Uint8Array(h.match(/../g).map((x) => parseInt(x, 16)));
            const b64u = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
            const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
            const err = async (p) => {{ try {{ await p; return "resolved"; }} catch (e) {{ return e.name; }} }};
            {body}
        }} }}"#
    );
    returned(call(esm(&source), "go", Value::Null))
}

#[test]
fn digests_and_hmac_match_the_rfc_vectors() {
    let out = crypto(
        r#"
        const jefe = await subtle.importKey("raw", enc("Jefe"), { name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);
        const jefe512 = await subtle.importKey("raw", enc("Jefe"), { name: "hmac", hash: { name: "sha-512" } }, false, ["sign"]);
        const data = enc("what do ya want for nothing?");
        const mac = await subtle.sign("HMAC", jefe, data);
        const tampered = new Uint8Array(mac).slice(); tampered[0] ^= 1;
        const generated = await subtle.generateKey({ name: "HMAC", hash: "SHA-384" }, true, ["sign"]);
        return {
          sha1: hex(await subtle.digest("SHA-1", enc("abc"))),
          sha256: hex(await subtle.digest({ name: "sha-256" }, enc("abc"))),
          sha384: hex(await subtle.digest("SHA-384", new DataView(enc("abc").buffer))),
          sha512: hex(await subtle.digest("SHA-512", enc("abc").buffer)),
          hmac256: hex(mac),
          hmac512: hex(await subtle.sign("HMAC", jefe512, data)),
          verifies: await subtle.verify("HMAC", jefe, mac, data),
          tamperedVerifies: await subtle.verify("HMAC", jefe, tampered, data),
          algorithm: jefe.algorithm, usages: jefe.usages, type: jefe.type,
          jwk: await subtle.exportKey("jwk", jefe),
          generated: [generated.algorithm.length, (await subtle.exportKey("raw", generated)).byteLength],
          md5: await err(subtle.digest("MD5", enc("abc"))),
          noName: await err(subtle.digest({}, enc("abc"))),
          notBuffer: await err(subtle.digest("SHA-256", "abc")),
        };"#,
    );
    assert_eq!(
        out["sha1"],
        json!("a9993e364706816aba3e25717850c26c9cd0d89d")
    );
    assert_eq!(
        out["sha256"],
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        out["sha384"],
        json!(
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
        )
    );
    assert_eq!(
        out["sha512"],
        json!(
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        )
    );
    // RFC 4231, test case 2.
    assert_eq!(
        out["hmac256"],
        json!("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    );
    assert_eq!(
        out["hmac512"],
        json!(
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        )
    );
    assert_eq!(out["verifies"], json!(true));
    assert_eq!(out["tamperedVerifies"], json!(false));
    assert_eq!(
        out["algorithm"],
        json!({"name": "HMAC", "length": 32, "hash": {"name": "SHA-256"}})
    );
    assert_eq!(out["usages"], json!(["sign", "verify"]));
    assert_eq!(out["type"], json!("secret"));
    assert_eq!(
        out["jwk"],
        json!({"kty": "oct", "k": "SmVmZQ", "alg": "HS256", "key_ops": ["sign", "verify"], "ext": true})
    );
    assert_eq!(out["generated"], json!([1024, 128]));
    assert_eq!(out["md5"], json!("NotSupportedError"));
    assert_eq!(out["noName"], json!("TypeError"));
    assert_eq!(out["notBuffer"], json!("TypeError"));
}

#[test]
fn aes_modes_match_nist_vectors() {
    let out = crypto(
        r#"
        const key128 = unhex("2b7e151628aed2a6abf7158809cf4f3c");
        const plain = unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
        const cbc = await subtle.importKey("raw", key128, "AES-CBC", false, ["encrypt", "decrypt"]);
        const cbcOut = await subtle.encrypt({ name: "AES-CBC", iv: unhex("000102030405060708090a0b0c0d0e0f") }, cbc, plain);
        const cbcBack = await subtle.decrypt({ name: "AES-CBC", iv: unhex("000102030405060708090a0b0c0d0e0f") }, cbc, cbcOut);
        const ctr = await subtle.importKey("raw", key128, "AES-CTR", false, ["encrypt", "decrypt"]);
        const counter = unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
        const ctrOut = await subtle.encrypt({ name: "AES-CTR", counter, length: 64 }, ctr, plain);
        const gcmKey = await subtle.importKey("raw", unhex("feffe9928665731c6d6a8f9467308308"), "AES-GCM", true, ["encrypt", "decrypt"]);
        const iv = unhex("cafebabefacedbaddecaf888");
        const gcmPlain = unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255");
        const gcmOut = await subtle.encrypt({ name: "AES-GCM", iv }, gcmKey, gcmPlain);
        const tampered = new Uint8Array(gcmOut).slice(); tampered[3] ^= 0x80;
        const aad = enc("header");
        const short = await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad, tagLength: 96 }, gcmKey, enc("hi"));
        const k256 = await subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
        const iv16 = crypto.getRandomValues(new Uint8Array(16));
        const roundTrip = await subtle.decrypt({ name: "AES-GCM", iv: iv16 }, k256, await subtle.encrypt({ name: "AES-GCM", iv: iv16 }, k256, enc("sixteen-byte iv")));
        return {
          cbc: hex(cbcOut), cbcBack: hex(cbcBack),
          ctr: hex(ctrOut),
          ctrBack: hex(await subtle.decrypt({ name: "AES-CTR", counter, length: 64 }, ctr, ctrOut)),
          ctrWraps: await err(subtle.encrypt({ name: "AES-CTR", counter, length: 1 }, ctr, new Uint8Array(48))),
          gcm: hex(gcmOut),
          gcmBack: hex(await subtle.decrypt({ name: "AES-GCM", iv }, gcmKey, gcmOut)),
          gcmTampered: await err(subtle.decrypt({ name: "AES-GCM", iv }, gcmKey, tampered)),
          shortTag: short.byteLength,
          shortBack: new TextDecoder().decode(await subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad, tagLength: 96 }, gcmKey, short)),
          wrongAad: await err(subtle.decrypt({ name: "AES-GCM", iv, additionalData: enc("other"), tagLength: 96 }, gcmKey, short)),
          roundTrip: new TextDecoder().decode(roundTrip),
          badPadding: await err(subtle.decrypt({ name: "AES-CBC", iv: new Uint8Array(16) }, cbc, new Uint8Array(16))),
          badIv: await err(subtle.encrypt({ name: "AES-CBC", iv: new Uint8Array(8) }, cbc, plain)),
          badLength: await err(subtle.importKey("raw", new Uint8Array(20), "AES-GCM", false, ["encrypt"])),
          wrongAlg: await err(subtle.encrypt({ name: "AES-GCM", iv }, cbc, plain)),
          noUsage: await err(subtle.encrypt({ name: "AES-GCM", iv }, await subtle.importKey("raw", key128, "AES-GCM", false, ["decrypt"]), plain)),
          badUsage: await err(subtle.importKey("raw", key128, "AES-GCM", false, ["sign"])),
          emptyUsages: await err(subtle.importKey("raw", key128, "AES-GCM", false, [])),
          jwk: await subtle.exportKey("jwk", gcmKey),
        };"#,
    );
    // SP 800-38A F.2.1, then the PKCS#7 padding block.
    assert!(
        out["cbc"]
            .as_str()
            .is_some_and(|s| s
                .starts_with("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2")),
        "{}",
        out["cbc"]
    );
    assert_eq!(out["cbc"].as_str().map(str::len), Some(96));
    assert_eq!(
        out["cbcBack"],
        json!("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51")
    );
    // SP 800-38A F.5.1 (the counter carries across the 64-bit boundary).
    assert_eq!(
        out["ctr"],
        json!("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff")
    );
    assert_eq!(
        out["ctrBack"],
        json!("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51")
    );
    assert_eq!(out["ctrWraps"], json!("OperationError"));
    // The GCM spec's test case 3: ciphertext then tag.
    assert_eq!(
        out["gcm"],
        json!(
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f59854d5c2af327cd64a62cf35abd2ba6fab4"
        )
    );
    assert_eq!(
        out["gcmBack"],
        json!(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
        )
    );
    assert_eq!(out["gcmTampered"], json!("OperationError"));
    assert_eq!(out["shortTag"], json!(14));
    assert_eq!(out["shortBack"], json!("hi"));
    assert_eq!(out["wrongAad"], json!("OperationError"));
    assert_eq!(out["roundTrip"], json!("sixteen-byte iv"));
    assert_eq!(out["badPadding"], json!("OperationError"));
    assert_eq!(out["badIv"], json!("OperationError"));
    assert_eq!(out["badLength"], json!("DataError"));
    assert_eq!(out["wrongAlg"], json!("InvalidAccessError"));
    assert_eq!(out["noUsage"], json!("InvalidAccessError"));
    assert_eq!(out["badUsage"], json!("SyntaxError"));
    assert_eq!(out["emptyUsages"], json!("SyntaxError"));
    assert_eq!(
        out["jwk"],
        json!({"kty": "oct", "k": "_v_pkoZlcxxtao-UZzCDCA", "alg": "A128GCM", "key_ops": ["encrypt", "decrypt"], "ext": true})
    );
}

#[test]
fn key_derivation_matches_the_rfc_vectors_and_is_capped() {
    let out = crypto(
        r#"
        const password = await subtle.importKey("raw", enc("password"), "PBKDF2", false, ["deriveBits", "deriveKey"]);
        const ikm = await subtle.importKey("raw", new Uint8Array(22).fill(0x0b), "HKDF", false, ["deriveBits"]);
        const aes = await subtle.deriveKey({ name: "PBKDF2", salt: enc("salt"), iterations: 2, hash: "SHA-256" }, password, { name: "AES-GCM", length: 256 }, true, ["encrypt"]);
        const hmac = await subtle.deriveKey({ name: "PBKDF2", salt: enc("salt"), iterations: 2, hash: "SHA-256" }, password, { name: "HMAC", hash: "SHA-1" }, true, ["sign"]);
        return {
          pbkdf2: hex(await subtle.deriveBits({ name: "PBKDF2", salt: enc("salt"), iterations: 4096, hash: "SHA-1" }, password, 160)),
          hkdf: hex(await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: unhex("000102030405060708090a0b0c"), info: unhex("f0f1f2f3f4f5f6f7f8f9") }, ikm, 336)),
          derivedAes: [aes.algorithm.name, aes.algorithm.length, (await subtle.exportKey("raw", aes)).byteLength],
          derivedHmac: [hmac.algorithm.length, (await subtle.exportKey("raw", hmac)).byteLength],
          overCap: await err(subtle.deriveBits({ name: "PBKDF2", salt: enc("s"), iterations: 1000001, hash: "SHA-256" }, password, 256)),
          // Under the iteration cap, but 2,048 blocks of 1,000,000 each.
          overWork: await err(subtle.deriveBits({ name: "PBKDF2", salt: enc("s"), iterations: 1000000, hash: "SHA-1" }, password, 65536)),
          rsa8192: await err(subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 8192, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign"])),
          zeroIterations: await err(subtle.deriveBits({ name: "PBKDF2", salt: enc("s"), iterations: 0, hash: "SHA-256" }, password, 256)),
          noLength: await err(subtle.deriveBits({ name: "PBKDF2", salt: enc("s"), iterations: 1, hash: "SHA-256" }, password)),
          oddLength: await err(subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: enc(""), info: enc("") }, ikm, 7)),
          extractable: await err(subtle.importKey("raw", enc("pw"), "PBKDF2", true, ["deriveBits"])),
          exportPbkdf2: await err(subtle.exportKey("raw", password)),
          missingSalt: await err(subtle.deriveBits({ name: "HKDF", hash: "SHA-256", info: enc("") }, ikm, 256)),
          wrongUsage: await err(subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: enc(""), info: enc("") }, ikm, { name: "AES-GCM", length: 128 }, true, ["encrypt"])),
        };"#,
    );
    // RFC 6070 (c = 4096) and RFC 5869 test case 1.
    assert_eq!(
        out["pbkdf2"],
        json!("4b007901b765489abead49d926f721d065a429c1")
    );
    assert_eq!(
        out["hkdf"],
        json!(
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        )
    );
    assert_eq!(out["derivedAes"], json!(["AES-GCM", 256, 32]));
    assert_eq!(out["derivedHmac"], json!([512, 64]));
    assert_eq!(out["overCap"], json!("NotSupportedError"));
    assert_eq!(out["overWork"], json!("NotSupportedError"));
    assert_eq!(out["rsa8192"], json!("NotSupportedError"));
    assert_eq!(out["zeroIterations"], json!("OperationError"));
    assert_eq!(out["noLength"], json!("OperationError"));
    assert_eq!(out["oddLength"], json!("OperationError"));
    assert_eq!(out["extractable"], json!("SyntaxError"));
    assert_eq!(out["exportPbkdf2"], json!("InvalidAccessError"));
    assert_eq!(out["missingSalt"], json!("TypeError"));
    assert_eq!(out["wrongUsage"], json!("InvalidAccessError"));
}

#[test]
fn ecdsa_and_ed25519_match_rfc_vectors_and_openssl() {
    let out = crypto(
        r#"
        // RFC 6979 A.2.5: P-256, deterministic k, message "sample".
        const jwk = { kty: "EC", crv: "P-256",
          d: b64u(unhex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")),
          x: b64u(unhex("60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6")),
          y: b64u(unhex("7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299")) };
        const priv = await subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
        const pubJwk = { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
        const pub = await subtle.importKey("jwk", pubJwk, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
        const sig = await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, priv, enc("sample"));
        const spki = await subtle.exportKey("spki", pub);
        const raw = await subtle.exportKey("raw", pub);
        const pkcs8 = await subtle.exportKey("pkcs8", priv);
        const again = await subtle.importKey("pkcs8", pkcs8, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
        const fromSpki = await subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
        // A P-384 key and signature made by OpenSSL.
        const p384 = await subtle.importKey("spki", unb64("MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEQub2CCwMFkNt0DWuiB/2Esvcuc402/poRran1AwvWMjmI6qTlMLHLi1c+gQHGK61Fl1DUfjggB1zCjHEm022bzYSoR0Qq2cxRQX24+5I/di2L6jC+M4lBrte1FP6iu8I"), { name: "ECDSA", namedCurve: "P-384" }, false, ["verify"]);
        const opensslSig = unhex("074fc4cfbec4917eb6681ac84089733eaa4b7ffef1ba9b6671009cfda3189ea629f88f6a220c045faea5148e72d6aea80198e211edec78ade020b282c6d52a59ba39c11ac718ee9cb178cc2b0c7796ffda06bdf204e74dc3a931fceae656a636");
        // RFC 8032 7.1, test 1 (empty message).
        const ed = await subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519",
          d: b64u(unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")),
          x: b64u(unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")) }, "Ed25519", true, ["sign"]);
        const edPub = await subtle.importKey("raw", unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), { name: "Ed25519" }, true, ["verify"]);
        const edSig = await subtle.sign("Ed25519", ed, new Uint8Array(0));
        const pair = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, false, ["sign", "verify"]);
        const edPair = await subtle.generateKey("Ed25519", true, ["sign", "verify"]);
        const edPkcs8 = await subtle.exportKey("pkcs8", edPair.privateKey);
        const edBack = await subtle.importKey("pkcs8", edPkcs8, "Ed25519", false, ["sign"]);
        const msg = enc("generated");
        return {
          sig: hex(sig),
          verifies: await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pub, sig, enc("sample")),
          otherMessage: await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pub, sig, enc("samplf")),
          otherHash: await subtle.verify({ name: "ECDSA", hash: "SHA-384" }, pub, sig, enc("sample")),
          viaPkcs8: await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, fromSpki, await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, again, msg), msg),
          raw: hex(raw).slice(0, 4), rawLength: raw.byteLength,
          exportedJwk: await subtle.exportKey("jwk", priv),
          openssl: await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, p384, opensslSig, enc("isola")),
          opensslTampered: await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, p384, opensslSig, enc("isolb")),
          generated: [pair.publicKey.algorithm, pair.privateKey.extractable, pair.publicKey.extractable, pair.privateKey.usages, pair.publicKey.usages,
            await subtle.verify({ name: "ECDSA", hash: "SHA-512" }, pair.publicKey, await subtle.sign({ name: "ECDSA", hash: "SHA-512" }, pair.privateKey, msg), msg)],
          edSig: hex(edSig),
          edVerifies: await subtle.verify("Ed25519", edPub, edSig, new Uint8Array(0)),
          edGenerated: await subtle.verify("Ed25519", edPair.publicKey, await subtle.sign("Ed25519", edBack, msg), msg),
          edJwk: await subtle.exportKey("jwk", edPub),
          wrongCurve: await err(subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-384" }, true, ["verify"])),
          unknownCurve: await err(subtle.generateKey({ name: "ECDSA", namedCurve: "P-521" }, true, ["sign"])),
          mismatched: await err(subtle.importKey("jwk", { ...jwk, x: pubJwk.y }, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"])),
          signWithPublic: await err(subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pub, msg)),
          privateRaw: await err(subtle.exportKey("raw", priv)),
          badUsage: await err(subtle.generateKey("Ed25519", true, ["encrypt"])),
          garbage: await err(subtle.importKey("spki", new Uint8Array([1, 2, 3]), "Ed25519", true, ["verify"])),
        };"#,
    );
    assert_eq!(
        out["sig"],
        json!(
            "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"
        )
    );
    assert_eq!(out["verifies"], json!(true));
    assert_eq!(out["otherMessage"], json!(false));
    assert_eq!(out["otherHash"], json!(false));
    assert_eq!(out["viaPkcs8"], json!(true));
    assert_eq!(out["raw"], json!("0460"));
    assert_eq!(out["rawLength"], json!(65));
    assert_eq!(out["exportedJwk"]["kty"], json!("EC"));
    assert_eq!(out["exportedJwk"]["crv"], json!("P-256"));
    assert_eq!(out["exportedJwk"]["alg"], json!("ES256"));
    assert_eq!(out["exportedJwk"]["key_ops"], json!(["sign"]));
    assert_eq!(out["openssl"], json!(true));
    assert_eq!(out["opensslTampered"], json!(false));
    assert_eq!(
        out["generated"],
        json!([{"name": "ECDSA", "namedCurve": "P-384"}, false, true, ["sign"], ["verify"], true])
    );
    assert_eq!(
        out["edSig"],
        json!(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        )
    );
    assert_eq!(out["edVerifies"], json!(true));
    assert_eq!(out["edGenerated"], json!(true));
    assert_eq!(
        out["edJwk"],
        json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "alg": "Ed25519", "key_ops": ["verify"], "ext": true})
    );
    assert_eq!(out["wrongCurve"], json!("DataError"));
    assert_eq!(out["unknownCurve"], json!("NotSupportedError"));
    assert_eq!(out["mismatched"], json!("DataError"));
    assert_eq!(out["signWithPublic"], json!("InvalidAccessError"));
    assert_eq!(out["privateRaw"], json!("InvalidAccessError"));
    assert_eq!(out["badUsage"], json!("SyntaxError"));
    assert_eq!(out["garbage"], json!("DataError"));
}

const RSA_PKCS8: &str = "MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAMNWOcuvda78TYNm2dgxs+S/hLRf8k8sOHq1JsYagkuV186KqshIqOQDJ8wT802genJiNhFu3LSRFV8WfMKXBWtw2PmU/sCBMS1xy+chQt0Xo9S/vVYm0vxWonAb2JFghGljJHLLE5rccDEFJ2fpXOaL5tnuC50eHiNoFnAEenzTAgMBAAECgYEAwfc8OtMHQ/RLMCEQTorEPHAk4Uuo/A9IIikB0JOAMHghrHmrrmfgNVIg0Zg58CpbjHuTfuocBL1QgHR+/GckO9hSsUq01OrjaD5+JoOI/aq+hOhdQtQPnqJOucUTtS6DTjX0jJMqhWjp/IQawe3gvoaTXgPIoNgv/8D/e6QzHqECQQDq9pBny30/v1qnMhoDstxGr8z9m+VptlBvH00LDkeRy8sdKJGqz94I//BUx9oZBmNTXJb5c421hSms5h3iM+WjAkEA1NNpq6/tJlbmYtVa4xGfA90gCce8tgF7dbnC7Z2+rw5bRpk4tJOPXoAw1dt8/Ynh7AQp7pOg1YZvjG9BVXifEQJAFPdbe2eVDZMtq6201I+pSEV3rUmz9vLlyoSog0wK5t+giEGOfgd+cJ8l+uq6c3E2e8HPVwMQqhnv1hXSpNSssQJAYM4xOKjzJAdPEBGgH7z6KZXBZvF1gww1jh0K725bN+E932T+iBS+l+uTSxNlTSYUn3hdYmnANJ/LyYMpoqkVIQJBAIZ6tvpvCw4QmHia2aFBNhvUugwPDB7nDonvs8xXWxNG2tMvP1JaSVnf6cYhErBLpOTZjSymK3WKvZPDDw23DJo=";
const RSA_SPKI: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDDVjnLr3Wu/E2DZtnYMbPkv4S0X/JPLDh6tSbGGoJLldfOiqrISKjkAyfME/NNoHpyYjYRbty0kRVfFnzClwVrcNj5lP7AgTEtccvnIULdF6PUv71WJtL8VqJwG9iRYIRpYyRyyxOa3HAxBSdn6Vzmi+bZ7gudHh4jaBZwBHp80wIDAQAB";

#[test]
fn rsa_interoperates_with_openssl() {
    let out = crypto(&format!(
        r#"
        const pkcs8 = unb64("{RSA_PKCS8}");
        const spki = unb64("{RSA_SPKI}");
        const msg = enc("isola");
        const signer = await subtle.importKey("pkcs8", pkcs8, {{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }}, true, ["sign"]);
        const verifier = await subtle.importKey("spki", spki, {{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }}, true, ["verify"]);
        const pssVerifier = await subtle.importKey("spki", spki, {{ name: "RSA-PSS", hash: "SHA-256" }}, false, ["verify"]);
        const oaep = await subtle.importKey("pkcs8", pkcs8, {{ name: "RSA-OAEP", hash: "SHA-256" }}, false, ["decrypt"]);
        const oaepPub = await subtle.importKey("spki", spki, {{ name: "RSA-OAEP", hash: "SHA-256" }}, false, ["encrypt"]);
        const jwk = await subtle.exportKey("jwk", signer);
        const fromJwk = await subtle.importKey("jwk", jwk, {{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }}, false, ["sign"]);
        const pair = await subtle.generateKey({{ name: "RSA-PSS", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-384" }}, true, ["sign", "verify"]);
        const pssSig = await subtle.sign({{ name: "RSA-PSS", saltLength: 48 }}, pair.privateKey, msg);
        return {{
          pkcs1: hex(await subtle.sign("RSASSA-PKCS1-v1_5", signer, msg)),
          viaJwk: hex(await subtle.sign("RSASSA-PKCS1-v1_5", fromJwk, msg)),
          opensslPkcs1: await subtle.verify("RSASSA-PKCS1-v1_5", verifier, unhex("9691e0b2a3a4e56205d3ffc4f938ab3cc8e7c993fba3d0a75829d59b755124c4dd2ad40e1f65eab8c9779810cce0392d0a3266a6cdaee605b78e822e4066e144b9ae81212c367303129e825a9b7221fef3dfbdfd808600c25dda1cea5be8ea1a1c4f864b4939f64357e4b19f292746f10ea7a38bb7bc57d0f368913686a11f56"), msg),
          opensslPss: await subtle.verify({{ name: "RSA-PSS", saltLength: 32 }}, pssVerifier, unhex("ae55bd901c0db9db94e78ddcdef23b29989c91036840fae2d888aecec6c2bf2e4a12c76c4963270ae1263658a1dccc180a932ca800fddef166cc0d779d51d3d447c3474df140c156ad5df2c38c491143fdd417b0c7cbf09bf7b42d6a50f02bc1f1808631c5e7a0982ed9d5a6eeecdb5467eda61fa082578483ed366b46d292c5"), msg),
          opensslOaep: new TextDecoder().decode(await subtle.decrypt({{ name: "RSA-OAEP" }}, oaep, unhex("2a240025957f97d437a2397b2de536aab13e84a1a6f6aedd3b94f9859783dd44f808df457444a96255d29666ff1c13d90433bace3d0d170125b6d27706874c01dd8e5e50256db4f7d20fcdec54fda3897930fb0d2dab6b365e0c54ace9ed2b64cb61a3d72f80acbf3dd8a75dc44945156c45894b238d715b9c500d67e00f0de3"))),
          oaepRoundTrip: new TextDecoder().decode(await subtle.decrypt({{ name: "RSA-OAEP", label: enc("l") }}, oaep, await subtle.encrypt({{ name: "RSA-OAEP", label: enc("l") }}, oaepPub, enc("round trip")))),
          wrongLabel: await err(subtle.decrypt({{ name: "RSA-OAEP", label: enc("m") }}, oaep, await subtle.encrypt({{ name: "RSA-OAEP", label: enc("l") }}, oaepPub, enc("x")))),
          algorithm: verifier.algorithm,
          jwkMembers: Object.keys(jwk).sort(),
          jwkAlg: jwk.alg,
          generated: [pair.privateKey.algorithm.modulusLength, pair.privateKey.algorithm.hash.name,
            await subtle.verify({{ name: "RSA-PSS", saltLength: 48 }}, pair.publicKey, pssSig, msg),
            await subtle.verify({{ name: "RSA-PSS", saltLength: 48 }}, pair.publicKey, pssSig, enc("other"))],
          badExponent: await err(subtle.generateKey({{ name: "RSA-OAEP", modulusLength: 1024, publicExponent: new Uint8Array([7]), hash: "SHA-256" }}, true, ["encrypt", "decrypt"])),
          tooBig: await err(subtle.generateKey({{ name: "RSA-OAEP", modulusLength: 16384, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }}, true, ["encrypt", "decrypt"])),
          jwkUseMismatch: await err(subtle.importKey("jwk", {{ ...jwk, use: "enc" }}, {{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }}, false, ["sign"])),
          jwkAlgMismatch: await err(subtle.importKey("jwk", jwk, {{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" }}, false, ["sign"])),
          encryptWithPrivate: await err(subtle.encrypt({{ name: "RSA-OAEP" }}, oaep, msg)),
        }};"#
    ));
    // PKCS#1 v1.5 is deterministic: the signature must equal OpenSSL's.
    let openssl = "9691e0b2a3a4e56205d3ffc4f938ab3cc8e7c993fba3d0a75829d59b755124c4dd2ad40e1f65eab8c9779810cce0392d0a3266a6cdaee605b78e822e4066e144b9ae81212c367303129e825a9b7221fef3dfbdfd808600c25dda1cea5be8ea1a1c4f864b4939f64357e4b19f292746f10ea7a38bb7bc57d0f368913686a11f56";
    assert_eq!(out["pkcs1"], json!(openssl));
    assert_eq!(out["viaJwk"], json!(openssl));
    assert_eq!(out["opensslPkcs1"], json!(true));
    assert_eq!(out["opensslPss"], json!(true));
    assert_eq!(out["opensslOaep"], json!("secret"));
    assert_eq!(out["oaepRoundTrip"], json!("round trip"));
    assert_eq!(out["wrongLabel"], json!("OperationError"));
    assert_eq!(
        out["algorithm"],
        json!({"name": "RSASSA-PKCS1-v1_5", "modulusLength": 1024, "publicExponent": {"$bytes": "AQAB"}, "hash": {"name": "SHA-256"}})
    );
    assert_eq!(
        out["jwkMembers"],
        json!([
            "alg", "d", "dp", "dq", "e", "ext", "key_ops", "kty", "n", "p", "q", "qi"
        ])
    );
    assert_eq!(out["jwkAlg"], json!("RS256"));
    assert_eq!(out["generated"], json!([1024, "SHA-384", true, false]));
    assert_eq!(out["badExponent"], json!("OperationError"));
    assert_eq!(out["tooBig"], json!("NotSupportedError"));
    assert_eq!(out["jwkUseMismatch"], json!("DataError"));
    assert_eq!(out["jwkAlgMismatch"], json!("DataError"));
    assert_eq!(out["encryptWithPrivate"], json!("InvalidAccessError"));
}

#[test]
fn keys_hide_their_material_and_wrap() {
    let out = crypto(
        r#"
        const key = await subtle.importKey("raw", unhex("00112233445566778899aabbccddeeff"), "AES-GCM", false, ["encrypt", "wrapKey", "unwrapKey"]);
        const reflected = [
          Object.getOwnPropertyNames(key), Object.getOwnPropertySymbols(key).length, JSON.stringify(key),
          Reflect.ownKeys(Object.getPrototypeOf(key)).filter((k) => typeof k === "string").sort(),
        ];
        const view = key.algorithm; view.name = "HMAC"; view.length = 8;
        let ctor; try { new CryptoKey(); } catch (e) { ctor = e.name; }
        let subtleCtor; try { new SubtleCrypto(); } catch (e) { subtleCtor = e.name; }
        const forged = Object.create(CryptoKey.prototype);
        const hmac = await subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
        const iv = new Uint8Array(12);
        const wrappedJwk = await subtle.wrapKey("jwk", hmac, key, { name: "AES-GCM", iv });
        const unwrapped = await subtle.unwrapKey("jwk", wrappedJwk, key, { name: "AES-GCM", iv }, { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
        const wrappedRaw = await subtle.wrapKey("raw", hmac, key, { name: "AES-GCM", iv });
        return {
          reflected,
          algorithmAfterMutation: key.algorithm,
          sameAlgorithmObject: key.algorithm === key.algorithm,
          ctor, subtleCtor,
          forged: await err(subtle.encrypt({ name: "AES-GCM", iv }, forged, new Uint8Array(1))),
          plainObject: await err(subtle.encrypt({ name: "AES-GCM", iv }, { type: "secret", algorithm: { name: "AES-GCM" } }, new Uint8Array(1))),
          notExtractable: await err(subtle.exportKey("raw", key)),
          wrapNotExtractable: await err(subtle.wrapKey("raw", key, key, { name: "AES-GCM", iv })),
          unwrapsToSame: hex(await subtle.exportKey("raw", unwrapped)) === hex(await subtle.exportKey("raw", hmac)),
          wrappedRawLength: wrappedRaw.byteLength,
          tag: Object.prototype.toString.call(key) + Object.prototype.toString.call(subtle),
          illegalThis: await err(SubtleCrypto.prototype.digest.call({}, "SHA-256", new Uint8Array(0))),
          tooFewArgs: await err(subtle.digest("SHA-256")),
          badFormat: await err(subtle.exportKey("pem", hmac)),
          badUsageName: await err(subtle.generateKey({ name: "AES-GCM", length: 128 }, true, ["encrypt", "launch"])),
        };"#,
    );
    assert_eq!(
        out["reflected"],
        json!([
            [],
            0,
            "{}",
            ["algorithm", "constructor", "extractable", "type", "usages"]
        ])
    );
    assert_eq!(
        out["algorithmAfterMutation"],
        json!({"name": "HMAC", "length": 8}),
        "the cached view is what the guest mutated; the key itself is unaffected (checked by wrap below)"
    );
    assert_eq!(out["sameAlgorithmObject"], json!(true));
    assert_eq!(out["ctor"], json!("TypeError"));
    assert_eq!(out["subtleCtor"], json!("TypeError"));
    assert_eq!(out["forged"], json!("TypeError"));
    assert_eq!(out["plainObject"], json!("TypeError"));
    assert_eq!(out["notExtractable"], json!("InvalidAccessError"));
    assert_eq!(out["wrapNotExtractable"], json!("InvalidAccessError"));
    assert_eq!(out["unwrapsToSame"], json!(true));
    assert_eq!(out["wrappedRawLength"], json!(64 + 16));
    assert_eq!(out["tag"], json!("[object CryptoKey][object SubtleCrypto]"));
    assert_eq!(out["illegalThis"], json!("TypeError"));
    assert_eq!(out["tooFewArgs"], json!("TypeError"));
    assert_eq!(out["badFormat"], json!("TypeError"));
    assert_eq!(out["badUsageName"], json!("TypeError"));
}
