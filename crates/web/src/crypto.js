// crypto.subtle and CryptoKey, loaded the first time a guest touches
// `crypto.subtle`, `CryptoKey` or `SubtleCrypto`. This file is the Web
// Crypto object model: algorithm normalization (WebIDL dictionaries),
// key usages and types, key objects. Every operation goes to Rust
// (web/subtle.rs, then the isola-webcrypto crate) as one plain-data
// request, synchronously: the returned promise is already settled.
//
// Key material stays in `CryptoKey` private fields, which no reflection,
// prototype patching or Proxy can read; only `exportKey` (for extractable
// keys) hands it out.
(function (host, load) {
  "use strict";
  const ObjectDefineProperty = Object.defineProperty;
  const ObjectFreeze = Object.freeze;
  const ObjectGetPrototypeOf = Object.getPrototypeOf;
  const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const ReflectApply = Reflect.apply;
  const StringCtor = String;
  const NumberCtor = Number;
  const MathTrunc = Math.trunc;
  const NumberIsFinite = Number.isFinite;
  const TypeErrorCtor = TypeError;
  const Uint8ArrayCtor = Uint8Array;
  const DOMExceptionCtor = DOMException;
  const ArrayIsArray = Array.isArray;
  const ArrayBufferIsView = ArrayBuffer.isView;
  const ArrayBufferByteLength = ObjectGetOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get;
  const TypedArrayPrototype = ObjectGetPrototypeOf(Uint8Array.prototype);
  const TypedArrayBuffer = ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, "buffer").get;
  const TypedArrayByteOffset = ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, "byteOffset").get;
  const TypedArrayByteLength = ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, "byteLength").get;
  const TypedArraySlice = TypedArrayPrototype.slice;
  const DataViewBuffer = ObjectGetOwnPropertyDescriptor(DataView.prototype, "buffer").get;
  const DataViewByteOffset = ObjectGetOwnPropertyDescriptor(DataView.prototype, "byteOffset").get;
  const DataViewByteLength = ObjectGetOwnPropertyDescriptor(DataView.prototype, "byteLength").get;
  const SymbolIterator = Symbol.iterator;
  const SymbolToStringTag = Symbol.toStringTag;
  const JSONParse = JSON.parse;
  const JSONStringify = JSON.stringify;

  const call = (fn, self, ...args) => ReflectApply(fn, self, args);
  const subtleOp = (op, params) => host.subtle(op, params);
  const fail = (name, message) => new DOMExceptionCtor(message, name);

  // ---- WebIDL conversions
  function isArrayBuffer(value) {
    try {
      call(ArrayBufferByteLength, value);
      return true;
    } catch {
      return false;
    }
  }

  // A BufferSource as a Uint8Array over the same bytes (not a copy: every
  // operation reads it synchronously, before any guest code can run). A
  // detached buffer reads as empty, as the spec's "get a copy" says.
  function bufferSource(value, what) {
    if (ArrayBufferIsView(value)) {
      let buffer, offset, length;
      try {
        buffer = call(TypedArrayBuffer, value);
        offset = call(TypedArrayByteOffset, value);
        length = call(TypedArrayByteLength, value);
      } catch {
        buffer = call(DataViewBuffer, value);
        try {
          offset = call(DataViewByteOffset, value);
          length = call(DataViewByteLength, value);
        } catch {
          return new Uint8ArrayCtor(0);
        }
      }
      return length === 0 ? new Uint8ArrayCtor(0) : new Uint8ArrayCtor(buffer, offset, length);
    }
    if (isArrayBuffer(value)) {
      const length = call(ArrayBufferByteLength, value);
      return length === 0 ? new Uint8ArrayCtor(0) : new Uint8ArrayCtor(value, 0, length);
    }
    throw new TypeErrorCtor(`${what} is not of type '(ArrayBuffer or ArrayBufferView)'`);
  }

  // [EnforceRange] integer conversion.
  function enforceRange(value, bits, what) {
    const n = NumberCtor(value);
    if (!NumberIsFinite(n)) throw new TypeErrorCtor(`${what} is not a finite number`);
    const i = MathTrunc(n);
    if (i < 0 || i > 2 ** bits - 1) throw new TypeErrorCtor(`${what} is outside the range of an unsigned ${bits}-bit integer`);
    return i === 0 ? 0 : i;
  }

  const USAGES = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];
  function keyUsages(value) {
    if (value === null || typeof value !== "object" || typeof value[SymbolIterator] !== "function") {
      throw new TypeErrorCtor("keyUsages is not a sequence");
    }
    const seen = [];
    for (const item of value) {
      const usage = StringCtor(item);
      if (!USAGES.includes(usage)) {
        throw new TypeErrorCtor(`'${usage}' is not a valid enum value of type KeyUsage`);
      }
      seen[seen.length] = usage;
    }
    return seen;
  }

  // The usages, deduplicated, in the spec's canonical order.
  const canonicalUsages = (usages) => USAGES.filter((u) => usages.includes(u));

  // ---- algorithm normalization
  // Each registered algorithm, per operation, with the dictionary its
  // parameters convert to. Member converters run in lexicographic order,
  // as WebIDL reads dictionaries.
  const required = (convert) => ({ convert, required: true });
  const optional = (convert) => ({ convert, required: false });
  const buffer = (what) => (v) => bufferSource(v, what);
  const uint = (bits, what) => (v) => enforceRange(v, bits, what);
  const hashId = (v) => normalize("digest", v).name;
  const bigInteger = (v) => {
    if (!ArrayBufferIsView(v)) throw new TypeErrorCtor("publicExponent is not a Uint8Array");
    const bytes = bufferSource(v, "publicExponent");
    return call(TypedArraySlice, bytes);
  };

  const D = {
    none: {},
    aesCbc: { iv: required(buffer("iv")) },
    aesCtr: { counter: required(buffer("counter")), length: required(uint(8, "length")) },
    aesGcm: { additionalData: optional(buffer("additionalData")), iv: required(buffer("iv")), tagLength: optional(uint(8, "tagLength")) },
    aesKeyGen: { length: required(uint(16, "length")) },
    rsaOaep: { label: optional(buffer("label")) },
    rsaPss: { saltLength: required(uint(32, "saltLength")) },
    ecdsa: { hash: required(hashId) },
    ecKey: { namedCurve: required(StringCtor) },
    hmacImport: { hash: required(hashId), length: optional(uint(32, "length")) },
    rsaHashedImport: { hash: required(hashId) },
    rsaHashedKeyGen: { hash: required(hashId), modulusLength: required(uint(32, "modulusLength")), publicExponent: required(bigInteger) },
    hkdf: { hash: required(hashId), info: required(buffer("info")), salt: required(buffer("salt")) },
    pbkdf2: { hash: required(hashId), iterations: required(uint(32, "iterations")), salt: required(buffer("salt")) },
  };

  const SHA = { "SHA-1": D.none, "SHA-256": D.none, "SHA-384": D.none, "SHA-512": D.none };
  const RSA = ["RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"];
  const AES = ["AES-CTR", "AES-CBC", "AES-GCM"];
  const REGISTRY = {
    digest: SHA,
    encrypt: { "RSA-OAEP": D.rsaOaep, "AES-CTR": D.aesCtr, "AES-CBC": D.aesCbc, "AES-GCM": D.aesGcm },
    sign: { "RSASSA-PKCS1-v1_5": D.none, "RSA-PSS": D.rsaPss, ECDSA: D.ecdsa, HMAC: D.none, Ed25519: D.none },
    generateKey: {
      "RSASSA-PKCS1-v1_5": D.rsaHashedKeyGen, "RSA-PSS": D.rsaHashedKeyGen, "RSA-OAEP": D.rsaHashedKeyGen,
      ECDSA: D.ecKey, HMAC: D.hmacImport, Ed25519: D.none,
      "AES-CTR": D.aesKeyGen, "AES-CBC": D.aesKeyGen, "AES-GCM": D.aesKeyGen,
    },
    deriveBits: { HKDF: D.hkdf, PBKDF2: D.pbkdf2 },
    importKey: {
      "RSASSA-PKCS1-v1_5": D.rsaHashedImport, "RSA-PSS": D.rsaHashedImport, "RSA-OAEP": D.rsaHashedImport,
      ECDSA: D.ecKey, HMAC: D.hmacImport, Ed25519: D.none,
      "AES-CTR": D.none, "AES-CBC": D.none, "AES-GCM": D.none, HKDF: D.none, PBKDF2: D.none,
    },
    "get key length": { "AES-CTR": D.aesKeyGen, "AES-CBC": D.aesKeyGen, "AES-GCM": D.aesKeyGen, HMAC: D.hmacImport, HKDF: D.none, PBKDF2: D.none },
  };
  REGISTRY.decrypt = REGISTRY.encrypt;
  REGISTRY.verify = REGISTRY.sign;
  REGISTRY.wrapKey = REGISTRY.encrypt;
  REGISTRY.unwrapKey = REGISTRY.encrypt;

  function normalize(op, algorithm) {
    if (algorithm === null || (typeof algorithm !== "object" && typeof algorithm !== "function")) {
      return normalize(op, { name: StringCtor(algorithm) });
    }
    const rawName = algorithm.name;
    if (rawName === undefined) throw new TypeErrorCtor("Algorithm: name: Missing required property");
    const upper = StringCtor(rawName).toUpperCase();
    const registered = REGISTRY[op];
    let name;
    for (const candidate in registered) {
      if (candidate.toUpperCase() === upper) name = candidate;
    }
    if (name === undefined) throw fail("NotSupportedError", `Unrecognized algorithm name: ${StringCtor(rawName)}`);
    const dictionary = registered[name];
    const result = { name };
    for (const member of Object.keys(dictionary).sort()) {
      const value = algorithm[member];
      const spec = dictionary[member];
      if (value === undefined) {
        if (spec.required) throw new TypeErrorCtor(`${name}: ${member}: Missing required property`);
        continue;
      }
      result[member] = spec.convert(value);
    }
    return result;
  }

  // ---- CryptoKey
  const kConstruct = Symbol("CryptoKey");
  let keyInternals;

  class CryptoKey {
    #type;
    #extractable;
    #algorithm;
    #usages;
    #material;
    #kind;
    #algorithmView;
    #usagesView;
    constructor(token, type, extractable, algorithm, usages, kind, material) {
      if (token !== kConstruct) throw new TypeErrorCtor("Illegal constructor");
      this.#type = type;
      this.#extractable = extractable;
      this.#algorithm = algorithm;
      this.#usages = usages;
      this.#kind = kind;
      this.#material = material;
    }
    get type() {
      return this.#type;
    }
    get extractable() {
      return this.#extractable;
    }
    get algorithm() {
      return (this.#algorithmView ??= algorithmView(this.#algorithm));
    }
    get usages() {
      return (this.#usagesView ??= [...this.#usages]);
    }
    static {
      keyInternals = (key) => {
        if (typeof key !== "object" || key === null || !(#type in key)) return undefined;
        return { type: key.#type, extractable: key.#extractable, algorithm: key.#algorithm, usages: key.#usages, kind: key.#kind, material: key.#material };
      };
    }
  }
  ObjectDefineProperty(CryptoKey.prototype, SymbolToStringTag, { value: "CryptoKey", configurable: true });
  for (const name of ["type", "extractable", "algorithm", "usages"]) {
    const d = ObjectGetOwnPropertyDescriptor(CryptoKey.prototype, name);
    d.enumerable = true;
    ObjectDefineProperty(CryptoKey.prototype, name, d);
  }

  // `key.algorithm` as the spec's KeyAlgorithm dictionaries: fresh copies,
  // so a guest mutating it cannot change the key.
  function algorithmView(a) {
    const view = { name: a.name };
    if (a.length !== undefined) view.length = a.length;
    if (a.namedCurve !== undefined) view.namedCurve = a.namedCurve;
    if (a.modulusLength !== undefined) {
      view.modulusLength = a.modulusLength;
      view.publicExponent = new Uint8ArrayCtor(a.publicExponent);
    }
    if (a.hash !== undefined) view.hash = { name: a.hash };
    return view;
  }

  function requireKey(key, what) {
    const internal = keyInternals(key);
    if (internal === undefined) throw new TypeErrorCtor(`${what} is not of type 'CryptoKey'`);
    return internal;
  }

  const newKey = (type, extractable, algorithm, usages, kind, material) =>
    new CryptoKey(kConstruct, type, extractable, algorithm, usages, kind, material);

  // What each algorithm's keys are, and which usages each key type allows.
  function keyKind(name, algorithm) {
    if (name === "ECDSA") return { kind: "ec", curve: algorithm.namedCurve };
    if (name === "Ed25519") return { kind: "ed25519" };
    if (RSA.includes(name)) return { kind: "rsa" };
    return { kind: "secret" };
  }
  function allowedUsages(name) {
    switch (name) {
      case "RSA-OAEP": return { public: ["encrypt", "wrapKey"], private: ["decrypt", "unwrapKey"] };
      case "RSASSA-PKCS1-v1_5":
      case "RSA-PSS":
      case "ECDSA":
      case "Ed25519": return { public: ["verify"], private: ["sign"] };
      case "HMAC": return { secret: ["sign", "verify"] };
      case "HKDF":
      case "PBKDF2": return { secret: ["deriveKey", "deriveBits"] };
      default: return { secret: ["encrypt", "decrypt", "wrapKey", "unwrapKey"] };
    }
  }
  function checkUsages(usages, allowed) {
    for (const usage of usages) {
      if (!allowed.includes(usage)) throw fail("SyntaxError", `Usage '${usage}' is not allowed for this key`);
    }
  }

  function checkKey(internal, name, usage) {
    if (internal.algorithm.name !== name) {
      throw fail("InvalidAccessError", `The requested operation is not valid for the provided key (it is a ${internal.algorithm.name} key)`);
    }
    if (!internal.usages.includes(usage)) {
      throw fail("InvalidAccessError", `The key does not allow the '${usage}' usage`);
    }
  }

  const CURVES = ["P-256", "P-384"];
  function checkCurve(curve) {
    if (!CURVES.includes(curve)) throw fail("NotSupportedError", `Unsupported namedCurve: ${curve} (supported: P-256, P-384)`);
  }
  function aesLength(length) {
    if (length !== 128 && length !== 192 && length !== 256) throw fail("OperationError", "AES key length must be 128, 192 or 256 bits");
  }
  // The byte length of an HMAC key, from `length` (bits) or the hash's block size.
  function hmacLength(algorithm) {
    if (algorithm.length !== undefined) {
      if (algorithm.length === 0) throw new TypeErrorCtor("HMAC key length must not be zero");
      return algorithm.length;
    }
    return algorithm.hash === "SHA-384" || algorithm.hash === "SHA-512" ? 1024 : 512;
  }

  // ---- operations
  function cipherParams(algorithm, internal, data) {
    const params = { alg: algorithm.name, material: internal.material, data };
    switch (algorithm.name) {
      case "AES-GCM":
        params.iv = algorithm.iv;
        params.additionalData = algorithm.additionalData;
        params.tagLength = algorithm.tagLength ?? 128;
        break;
      case "AES-CBC":
        params.iv = algorithm.iv;
        break;
      case "AES-CTR":
        params.counter = algorithm.counter;
        params.length = algorithm.length;
        break;
      case "RSA-OAEP":
        params.hash = internal.algorithm.hash;
        params.label = algorithm.label;
        break;
    }
    return params;
  }

  function encryptOrDecrypt(op, algorithm, key, data) {
    const normalized = normalize(op, algorithm);
    const bytes = bufferSource(data, "data");
    const internal = requireKey(key, "key");
    checkKey(internal, normalized.name, op);
    if (normalized.name === "RSA-OAEP" && internal.type !== (op === "encrypt" ? "public" : "private")) {
      throw fail("InvalidAccessError", "The key is of the wrong type for this operation");
    }
    return subtleOp(op, cipherParams(normalized, internal, bytes));
  }

  function signParams(normalized, internal, data) {
    const params = { alg: normalized.name, material: internal.material, data };
    if (normalized.name === "ECDSA") {
      params.hash = normalized.hash;
      params.curve = internal.algorithm.namedCurve;
    } else if (normalized.name !== "Ed25519") {
      params.hash = internal.algorithm.hash;
    }
    if (normalized.name === "RSA-PSS") params.saltLength = normalized.saltLength;
    return params;
  }

  function importKey(format, keyData, algorithm, extractable, usages) {
    format = StringCtor(format);
    if (!["raw", "spki", "pkcs8", "jwk"].includes(format)) {
      throw new TypeErrorCtor(`'${format}' is not a valid enum value of type KeyFormat`);
    }
    const normalized = normalize("importKey", algorithm);
    extractable = !!extractable;
    usages = keyUsages(usages);
    const name = normalized.name;
    let data, jwk;
    if (format === "jwk") {
      if (keyData === null || typeof keyData !== "object" || ArrayBufferIsView(keyData) || isArrayBuffer(keyData)) {
        throw new TypeErrorCtor("Key data must be a JsonWebKey object for the 'jwk' format");
      }
      jwk = readJwk(keyData);
    } else {
      data = call(TypedArraySlice, bufferSource(keyData, "keyData"));
    }
    const { kind, curve } = keyKind(name, normalized);
    if (kind === "ec") checkCurve(normalized.namedCurve);
    const allowed = allowedUsages(name);
    if (kind === "secret") {
      if (format !== "raw" && format !== "jwk") throw fail("NotSupportedError", `${name} keys cannot be imported as '${format}'`);
      if ((name === "HKDF" || name === "PBKDF2") && format !== "raw") throw fail("NotSupportedError", `${name} keys can only be imported as 'raw'`);
      if ((name === "HKDF" || name === "PBKDF2") && extractable) throw fail("SyntaxError", `${name} keys cannot be extractable`);
      checkUsages(usages, allowed.secret);
    }
    if (jwk !== undefined) checkJwk(jwk, name, normalized, usages, extractable);
    const imported = subtleOp("import", { kind, curve, format, data, jwk });
    const type = kind === "secret" ? "secret" : imported.private ? "private" : "public";
    if (kind !== "secret") {
      if (format === "raw" && type === "private") throw fail("DataError", "raw import is only for public keys");
      checkUsages(usages, allowed[type]);
    }
    if ((type === "secret" || type === "private") && usages.length === 0) {
      throw fail("SyntaxError", "Usages cannot be empty when creating a key.");
    }
    const material = new Uint8ArrayCtor(imported.material);
    const keyAlgorithm = { name };
    if (AES.includes(name)) {
      const bits = material.length * 8;
      aesLengthForImport(bits);
      keyAlgorithm.length = bits;
    } else if (name === "HMAC") {
      keyAlgorithm.hash = normalized.hash;
      const bits = material.length * 8;
      if (bits === 0) throw fail("DataError", "HMAC keys must not be empty");
      if (normalized.length !== undefined && (normalized.length > bits || normalized.length <= bits - 8)) {
        throw fail("DataError", "The HMAC key length does not match the key data");
      }
      keyAlgorithm.length = normalized.length ?? bits;
    } else if (kind === "ec") {
      keyAlgorithm.namedCurve = normalized.namedCurve;
    } else if (kind === "rsa") {
      keyAlgorithm.modulusLength = imported.modulusLength;
      keyAlgorithm.publicExponent = new Uint8ArrayCtor(imported.publicExponent);
      keyAlgorithm.hash = normalized.hash;
    }
    return newKey(type, extractable, keyAlgorithm, canonicalUsages(usages), { kind, curve: keyAlgorithm.namedCurve }, material);
  }
  function aesLengthForImport(bits) {
    if (bits !== 128 && bits !== 192 && bits !== 256) throw fail("DataError", "AES key data must be 128, 192 or 256 bits");
  }

  const JWK_STRINGS = ["kty", "use", "alg", "crv", "k", "x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi"];
  function readJwk(value) {
    const jwk = {};
    for (const member of JWK_STRINGS) {
      const v = value[member];
      if (v !== undefined) jwk[member] = StringCtor(v);
    }
    const ops = value.key_ops;
    if (ops !== undefined) jwk.key_ops = keyUsages(ops);
    const ext = value.ext;
    if (ext !== undefined) jwk.ext = !!ext;
    if (jwk.kty === undefined) throw new TypeErrorCtor("JsonWebKey: kty: Missing required property");
    return jwk;
  }

  function jwkAlg(name, algorithm) {
    switch (name) {
      case "HMAC": return `HS${algorithm.hash.slice(4)}`;
      case "AES-GCM": return `A${algorithm.length}GCM`;
      case "AES-CBC": return `A${algorithm.length}CBC`;
      case "AES-CTR": return `A${algorithm.length}CTR`;
      case "RSASSA-PKCS1-v1_5": return `RS${algorithm.hash.slice(4)}`;
      case "RSA-PSS": return `PS${algorithm.hash.slice(4)}`;
      case "RSA-OAEP": return algorithm.hash === "SHA-1" ? "RSA-OAEP" : `RSA-OAEP-${algorithm.hash.slice(4)}`;
      case "ECDSA": return algorithm.namedCurve === "P-256" ? "ES256" : "ES384";
      case "Ed25519": return "Ed25519";
      default: return undefined;
    }
  }

  function checkJwk(jwk, name, normalized, usages, extractable) {
    const kty = { HMAC: "oct", ECDSA: "EC", Ed25519: "OKP" }[name] ?? (RSA.includes(name) ? "RSA" : "oct");
    if (jwk.kty !== kty) throw fail("DataError", `The JWK "kty" member must be "${kty}"`);
    if (usages.length > 0 && jwk.use !== undefined) {
      const expected = name === "RSA-OAEP" || AES.includes(name) ? "enc" : "sig";
      if (jwk.use !== expected) throw fail("DataError", `The JWK "use" member must be "${expected}"`);
    }
    if (jwk.key_ops !== undefined) {
      for (const usage of usages) {
        if (!jwk.key_ops.includes(usage)) throw fail("DataError", `The JWK "key_ops" member does not include '${usage}'`);
      }
    }
    if (jwk.ext === false && extractable) throw fail("DataError", "The JWK is not extractable (\"ext\" is false)");
    if (jwk.alg !== undefined && name !== "ECDSA") {
      let expected;
      if (name === "HMAC") expected = `HS${normalized.hash.slice(4)}`;
      else if (AES.includes(name)) expected = jwk.k === undefined ? undefined : `A${jwkKeyBits(jwk.k)}${name.slice(4)}`;
      else expected = jwkAlg(name, normalized);
      if (expected !== undefined && jwk.alg !== expected) throw fail("DataError", `The JWK "alg" member must be "${expected}"`);
    }
  }
  // Bits of key material in a base64url string (without decoding it).
  const jwkKeyBits = (k) => MathTrunc((k.replace(/=+$/, "").length * 6) / 8) * 8;

  function exportKey(format, key) {
    format = StringCtor(format);
    if (!["raw", "spki", "pkcs8", "jwk"].includes(format)) {
      throw new TypeErrorCtor(`'${format}' is not a valid enum value of type KeyFormat`);
    }
    const internal = requireKey(key, "key");
    if (!internal.extractable) throw fail("InvalidAccessError", "The key is not extractable");
    const name = internal.algorithm.name;
    if (name === "HKDF" || name === "PBKDF2") throw fail("NotSupportedError", `${name} keys cannot be exported`);
    const exported = subtleOp("export", {
      kind: internal.kind.kind,
      curve: internal.kind.curve,
      format,
      private: internal.type === "private",
      material: internal.material,
    });
    if (format !== "jwk") return exported;
    const jwk = exported;
    const alg = jwkAlg(name, internal.algorithm);
    if (alg !== undefined && name !== "Ed25519") jwk.alg = alg;
    else if (name === "Ed25519") jwk.alg = "Ed25519";
    jwk.key_ops = [...internal.usages];
    jwk.ext = internal.extractable;
    return jwk;
  }

  function generateKey(algorithm, extractable, usages) {
    const normalized = normalize("generateKey", algorithm);
    extractable = !!extractable;
    usages = keyUsages(usages);
    const name = normalized.name;
    const allowed = allowedUsages(name);
    if (allowed.secret !== undefined) {
      checkUsages(usages, allowed.secret);
      let bits;
      const keyAlgorithm = { name };
      if (name === "HMAC") {
        bits = hmacLength(normalized);
        keyAlgorithm.hash = normalized.hash;
      } else {
        aesLength(normalized.length);
        bits = normalized.length;
      }
      keyAlgorithm.length = bits;
      if (usages.length === 0) throw fail("SyntaxError", "Usages cannot be empty when creating a key.");
      const material = new Uint8ArrayCtor(subtleOp("random", { length: MathTrunc((bits + 7) / 8) }));
      if (bits % 8 !== 0) material[material.length - 1] &= 0xff << (8 - (bits % 8));
      return newKey("secret", extractable, keyAlgorithm, canonicalUsages(usages), { kind: "secret" }, material);
    }
    checkUsages(usages, [...allowed.public, ...allowed.private]);
    const { kind } = keyKind(name, normalized);
    const keyAlgorithm = { name };
    const params = { kind };
    if (kind === "ec") {
      checkCurve(normalized.namedCurve);
      keyAlgorithm.namedCurve = params.curve = normalized.namedCurve;
    } else if (kind === "rsa") {
      params.modulusLength = normalized.modulusLength;
      params.publicExponent = normalized.publicExponent;
      keyAlgorithm.hash = normalized.hash;
    }
    const pair = subtleOp("generate", params);
    if (kind === "rsa") {
      keyAlgorithm.modulusLength = pair.modulusLength;
      keyAlgorithm.publicExponent = new Uint8ArrayCtor(pair.publicExponent);
    }
    const privateUsages = canonicalUsages(usages.filter((u) => allowed.private.includes(u)));
    if (privateUsages.length === 0) throw fail("SyntaxError", "Usages cannot be empty when creating a key.");
    const publicUsages = canonicalUsages(usages.filter((u) => allowed.public.includes(u)));
    const keyKindInfo = { kind, curve: keyAlgorithm.namedCurve };
    return {
      publicKey: newKey("public", true, keyAlgorithm, publicUsages, keyKindInfo, new Uint8ArrayCtor(pair.public)),
      privateKey: newKey("private", extractable, keyAlgorithm, privateUsages, keyKindInfo, new Uint8ArrayCtor(pair.private)),
    };
  }

  function deriveBits(algorithm, baseKey, length) {
    const normalized = normalize("deriveBits", algorithm);
    const internal = requireKey(baseKey, "baseKey");
    checkKey(internal, normalized.name, "deriveBits");
    return derive(normalized, internal, length);
  }

  function derive(normalized, internal, length) {
    if (length === null || length === undefined) throw fail("OperationError", "A length is required for this derivation");
    return subtleOp("deriveBits", {
      alg: normalized.name,
      hash: normalized.hash,
      material: internal.material,
      salt: normalized.salt,
      info: normalized.info,
      iterations: normalized.iterations,
      length,
    });
  }

  function keyLength(normalized) {
    const name = normalized.name;
    if (AES.includes(name)) {
      aesLength(normalized.length);
      return normalized.length;
    }
    if (name === "HMAC") return hmacLength(normalized);
    return null;
  }

  const BRAND = Symbol("SubtleCrypto");
  const checkThis = (self) => {
    if (self?.[BRAND] !== BRAND) throw new TypeErrorCtor("Illegal invocation");
  };
  const needs = (count, n, method) => {
    if (count < n) throw new TypeErrorCtor(`Failed to execute '${method}' on 'SubtleCrypto': ${n} arguments required, but only ${count} present.`);
  };

  class SubtleCrypto {
    constructor(token) {
      if (token !== kConstruct) throw new TypeErrorCtor("Illegal constructor");
      ObjectDefineProperty(this, BRAND, { value: BRAND });
    }
    async encrypt(algorithm, key, data) {
      checkThis(this);
      needs(arguments.length, 3, "encrypt");
      return encryptOrDecrypt("encrypt", algorithm, key, data);
    }
    async decrypt(algorithm, key, data) {
      checkThis(this);
      needs(arguments.length, 3, "decrypt");
      return encryptOrDecrypt("decrypt", algorithm, key, data);
    }
    async sign(algorithm, key, data) {
      checkThis(this);
      needs(arguments.length, 3, "sign");
      const normalized = normalize("sign", algorithm);
      const bytes = bufferSource(data, "data");
      const internal = requireKey(key, "key");
      checkKey(internal, normalized.name, "sign");
      if (internal.type === "public") throw fail("InvalidAccessError", "Signing needs a private key");
      return subtleOp("sign", signParams(normalized, internal, bytes));
    }
    async verify(algorithm, key, signature, data) {
      checkThis(this);
      needs(arguments.length, 4, "verify");
      const normalized = normalize("verify", algorithm);
      const sig = bufferSource(signature, "signature");
      const bytes = bufferSource(data, "data");
      const internal = requireKey(key, "key");
      checkKey(internal, normalized.name, "verify");
      if (internal.type === "private") throw fail("InvalidAccessError", "Verifying needs a public key");
      const params = signParams(normalized, internal, bytes);
      params.signature = sig;
      return subtleOp("verify", params);
    }
    async digest(algorithm, data) {
      checkThis(this);
      needs(arguments.length, 2, "digest");
      const normalized = normalize("digest", algorithm);
      return subtleOp("digest", { hash: normalized.name, data: bufferSource(data, "data") });
    }
    async generateKey(algorithm, extractable, keyUsages) {
      checkThis(this);
      needs(arguments.length, 3, "generateKey");
      return generateKey(algorithm, extractable, keyUsages);
    }
    async deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) {
      checkThis(this);
      needs(arguments.length, 5, "deriveKey");
      const normalized = normalize("deriveBits", algorithm);
      const importAlgorithm = normalize("importKey", derivedKeyType);
      const length = keyLength(normalize("get key length", derivedKeyType));
      const internal = requireKey(baseKey, "baseKey");
      checkKey(internal, normalized.name, "deriveKey");
      const bits = derive(normalized, internal, length);
      return importKey("raw", bits, importAlgorithm, extractable, keyUsages);
    }
    async deriveBits(algorithm, baseKey, length = null) {
      checkThis(this);
      needs(arguments.length, 2, "deriveBits");
      if (length !== null) length = enforceRange(length, 32, "length");
      return deriveBits(algorithm, baseKey, length);
    }
    async importKey(format, keyData, algorithm, extractable, keyUsages) {
      checkThis(this);
      needs(arguments.length, 5, "importKey");
      return importKey(format, keyData, algorithm, extractable, keyUsages);
    }
    async exportKey(format, key) {
      checkThis(this);
      needs(arguments.length, 2, "exportKey");
      return exportKey(format, key);
    }
    async wrapKey(format, key, wrappingKey, wrapAlgorithm) {
      checkThis(this);
      needs(arguments.length, 4, "wrapKey");
      const normalized = normalize("wrapKey", wrapAlgorithm);
      const wrapping = requireKey(wrappingKey, "wrappingKey");
      requireKey(key, "key");
      checkKey(wrapping, normalized.name, "wrapKey");
      let exported = exportKey(format, key);
      if (StringCtor(format) === "jwk") exported = host.utf8Encode(JSONStringify(exported));
      return subtleOp("encrypt", cipherParams(normalized, wrapping, bufferSource(exported, "key")));
    }
    async unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages) {
      checkThis(this);
      needs(arguments.length, 7, "unwrapKey");
      const normalized = normalize("unwrapKey", unwrapAlgorithm);
      const importAlgorithm = normalize("importKey", unwrappedKeyAlgorithm);
      const wrapped = bufferSource(wrappedKey, "wrappedKey");
      const unwrapping = requireKey(unwrappingKey, "unwrappingKey");
      checkKey(unwrapping, normalized.name, "unwrapKey");
      let bytes = subtleOp("decrypt", cipherParams(normalized, unwrapping, wrapped));
      let keyData = bytes;
      if (StringCtor(format) === "jwk") {
        try {
          keyData = JSONParse(host.utf8Decode(new Uint8ArrayCtor(bytes), true, false));
        } catch {
          throw fail("DataError", "The unwrapped key is not a JSON Web Key");
        }
      }
      return importKey(format, keyData, importAlgorithm, extractable, keyUsages);
    }
  }
  ObjectDefineProperty(SubtleCrypto.prototype, SymbolToStringTag, { value: "SubtleCrypto", configurable: true });

  const subtle = new SubtleCrypto(kConstruct);
  ObjectFreeze(REGISTRY);
  return { __proto__: null, subtle, SubtleCrypto, CryptoKey };
});
