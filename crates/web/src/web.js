// Web APIs for the fetch path, installed the first time a guest touches one
// of them (or calls fetch). URL parsing, text encoding and base64 are done in
// Rust by well-kept crates; this file holds the object model around them.
// Full web-platform conformance (streams, FormData, Blob, AbortSignal...) is
// the web-platform issue's work.
(function (host, load) {
  "use strict";
  const ObjectDefineProperty = Object.defineProperty;
  const ReflectApply = Reflect.apply;
  const StringCtor = String;
  const StringPrototypeToWellFormed = String.prototype.toWellFormed;
  // WebIDL USVString: lone surrogates become U+FFFD.
  const usv = (value) => ReflectApply(StringPrototypeToWellFormed, StringCtor(value), []);
  const TypeErrorCtor = TypeError;
  const RangeErrorCtor = RangeError;
  const Uint8ArrayCtor = Uint8Array;
  const ArrayBufferCtor = ArrayBuffer;
  const ArrayBufferIsView = ArrayBuffer.isView;
  const PromiseCtor = Promise;
  const JSONParse = JSON.parse;
  const JSONStringify = JSON.stringify;
  const SymbolIterator = Symbol.iterator;
  const ArrayPrototypeSort = Array.prototype.sort;
  const ArrayPrototypeSlice = Array.prototype.slice;
  const { op, then, setTimeout, reportError } = load("isola:core").internals;
  const push = (a, v) => (a[a.length] = v);
  const ObjectCreate = Object.create;
  const ObjectGetPrototypeOf = Object.getPrototypeOf;
  const ObjectHasOwn = Object.hasOwn;
  const MathTrunc = Math.trunc;
  const MathMin = Math.min;
  const MathMax = Math.max;
  const DateNow = Date.now;
  // Validation must not follow a guest's replacement of `RegExp.prototype.exec`
  // (which `test` looks up on every call).
  const RegExpPrototypeExec = RegExp.prototype.exec;
  const matches = (re, s) => ReflectApply(RegExpPrototypeExec, re, [s]) !== null;

  // WebIDL pair iterators: live (an index into the current pairs, read at
  // each step), with `X Iterator.prototype` inheriting %IteratorPrototype%.
  const IteratorPrototype = ObjectGetPrototypeOf(ObjectGetPrototypeOf([][Symbol.iterator]()));
  function pairIterator(tag, pairsOf) {
    const kState = Symbol(`${tag} iterator`);
    const prototype = ObjectCreate(IteratorPrototype, {
      next: {
        value: function next() {
          const state = this?.[kState];
          if (state === undefined) throw new TypeErrorCtor(`next() called on an object that is not a ${tag} iterator`);
          const pairs = pairsOf(state.target);
          if (state.index >= pairs.length) return { value: undefined, done: true };
          const pair = pairs[state.index++];
          const value = state.kind === "key" ? pair[0] : state.kind === "value" ? pair[1] : [pair[0], pair[1]];
          return { value, done: false };
        },
        writable: true,
        enumerable: true,
        configurable: true,
      },
      [Symbol.toStringTag]: { value: `${tag} Iterator`, configurable: true },
    });
    return (target, kind) => {
      const iterator = ObjectCreate(prototype);
      iterator[kState] = { target, kind, index: 0 };
      return iterator;
    };
  }

  const kGuard = Symbol("guard");
  const kList = Symbol("list");

  // ---- Headers
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const normalizeValue = (v) => {
    v = StringCtor(v);
    let s = 0;
    let e = v.length;
    while (s < e && (v[s] === " " || v[s] === "\t" || v[s] === "\n" || v[s] === "\r")) s++;
    while (e > s && (v[e - 1] === " " || v[e - 1] === "\t" || v[e - 1] === "\n" || v[e - 1] === "\r")) e--;
    v = v.slice(s, e);
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c === 0 || c === 10 || c === 13 || c > 255) throw new TypeErrorCtor(`Invalid header value.`);
    }
    return v;
  };
  const normalizeName = (n) => {
    n = StringCtor(n);
    if (!matches(TOKEN, n)) throw new TypeErrorCtor(`Invalid header name.`);
    return n.toLowerCase();
  };
  class Headers {
    constructor(init = undefined) {
      this[kList] = [];
      this[kGuard] = "none";
      if (init === undefined) return;
      if (init !== null && typeof init === "object" && typeof init[SymbolIterator] === "function") {
        for (const pair of init) {
          const p = [...pair];
          if (p.length !== 2) throw new TypeErrorCtor("Headers constructor: expected name/value pair to be length 2, found " + p.length + ".");
          this.append(p[0], p[1]);
        }
      } else if (init !== null && typeof init === "object") {
        for (const k of Object.keys(init)) this.append(k, init[k]);
      } else {
        throw new TypeErrorCtor("Failed to construct 'Headers': The provided value is not of type '(record<ByteString, ByteString> or sequence<sequence<ByteString>>)'.");
      }
    }
    append(name, value) {
      name = normalizeName(name);
      value = normalizeValue(value);
      if (this[kGuard] === "immutable") throw new TypeErrorCtor("Can't modify immutable headers.");
      push(this[kList], [name, value]);
    }
    set(name, value) {
      name = normalizeName(name);
      value = normalizeValue(value);
      if (this[kGuard] === "immutable") throw new TypeErrorCtor("Can't modify immutable headers.");
      const list = this[kList];
      const kept = [];
      let placed = false;
      for (let i = 0; i < list.length; i++) {
        if (list[i][0] !== name) push(kept, list[i]);
        else if (!placed) {
          push(kept, [name, value]);
          placed = true;
        }
      }
      if (!placed) push(kept, [name, value]);
      this[kList] = kept;
    }
    delete(name) {
      name = normalizeName(name);
      if (this[kGuard] === "immutable") throw new TypeErrorCtor("Can't modify immutable headers.");
      const kept = [];
      const list = this[kList];
      for (let i = 0; i < list.length; i++) if (list[i][0] !== name) push(kept, list[i]);
      this[kList] = kept;
    }
    get(name) {
      name = normalizeName(name);
      const values = [];
      const list = this[kList];
      for (let i = 0; i < list.length; i++) if (list[i][0] === name) push(values, list[i][1]);
      return values.length ? values.join(", ") : null;
    }
    getSetCookie() {
      const values = [];
      const list = this[kList];
      for (let i = 0; i < list.length; i++) if (list[i][0] === "set-cookie") push(values, list[i][1]);
      return values;
    }
    has(name) {
      name = normalizeName(name);
      const list = this[kList];
      for (let i = 0; i < list.length; i++) if (list[i][0] === name) return true;
      return false;
    }
    forEach(callback, thisArg = undefined) {
      for (const [k, v] of this) ReflectApply(callback, thisArg, [v, k, this]);
    }
    entries() {
      return headersIterator(this, "key+value");
    }
    keys() {
      return headersIterator(this, "key");
    }
    values() {
      return headersIterator(this, "value");
    }
    [SymbolIterator]() {
      return headersIterator(this, "key+value");
    }
    get [Symbol.toStringTag]() {
      return "Headers";
    }
  }
  // The "sort and combine" list the iterators walk.
  function sortedAndCombined(headers) {
    const names = [];
    const list = headers[kList];
    for (let i = 0; i < list.length; i++) if (!names.includes(list[i][0])) push(names, list[i][0]);
    ReflectApply(ArrayPrototypeSort, names, []);
    const out = [];
    for (const name of names) {
      if (name === "set-cookie") for (const v of headers.getSetCookie()) push(out, [name, v]);
      else push(out, [name, headers.get(name)]);
    }
    return out;
  }
  const headersIterator = pairIterator("Headers", sortedAndCombined);
  const headerPairs = (h) => ReflectApply(ArrayPrototypeSlice, h[kList], []).map((p) => [p[0], p[1]]);
  const immutableHeaders = (pairs) => {
    const h = new Headers();
    for (let i = 0; i < pairs.length; i++) push(h[kList], [pairs[i][0], pairs[i][1]]);
    h[kGuard] = "immutable";
    return h;
  };

  // ---- Blob and File (bytes held in a private field; never mutated)
  const CONTENT_TYPE_OK = /^[\x20-\x7e]*$/;
  const normalizeBlobType = (type) => (matches(CONTENT_TYPE_OK, type) ? type.toLowerCase() : "");
  let blobBytes;
  // The bytes of a BufferSource, copied (a later write by the guest must not
  // change a Blob or a body).
  function copyBufferSource(value) {
    if (value instanceof ArrayBufferCtor) return new Uint8ArrayCtor(ReflectApply(ArrayBufferCtor.prototype.slice, value, [0]));
    if (ArrayBufferIsView(value)) return new Uint8ArrayCtor(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
    return undefined;
  }
  function concatBytes(chunks) {
    let length = 0;
    for (let i = 0; i < chunks.length; i++) length += chunks[i].length;
    const out = new Uint8ArrayCtor(length);
    let offset = 0;
    for (let i = 0; i < chunks.length; i++) {
      out.set(chunks[i], offset);
      offset += chunks[i].length;
    }
    return out;
  }
  class Blob {
    #bytes;
    #type;
    constructor(blobParts = undefined, options = undefined) {
      if (options !== undefined && options !== null && typeof options !== "object" && typeof options !== "function") {
        throw new TypeErrorCtor("Failed to construct 'Blob': The provided value is not of type 'BlobPropertyBag'.");
      }
      const endings = options?.endings === undefined ? "transparent" : StringCtor(options.endings);
      if (endings !== "transparent" && endings !== "native") {
        throw new TypeErrorCtor(`Failed to construct 'Blob': The provided value '${endings}' is not a valid enum value of type EndingType.`);
      }
      const type = options?.type === undefined ? "" : normalizeBlobType(StringCtor(options.type));
      const chunks = [];
      if (blobParts !== undefined) {
        if (blobParts === null || typeof blobParts !== "object" || typeof blobParts[SymbolIterator] !== "function") {
          throw new TypeErrorCtor("Failed to construct 'Blob': The provided value cannot be converted to a sequence.");
        }
        for (const part of blobParts) {
          const own = blobBytes(part);
          if (own !== undefined) {
            push(chunks, own);
            continue;
          }
          const copied = copyBufferSource(part);
          if (copied !== undefined) {
            push(chunks, copied);
            continue;
          }
          let text = StringCtor(part);
          if (endings === "native") text = text.replace(/\r\n|\r/g, "\n");
          push(chunks, host.utf8Encode(text));
        }
      }
      this.#bytes = concatBytes(chunks);
      this.#type = type;
    }
    get size() {
      return this.#bytes.length;
    }
    get type() {
      return this.#type;
    }
    slice(start = undefined, end = undefined, contentType = undefined) {
      const size = this.#bytes.length;
      const clamp = (value, fallback) => {
        if (value === undefined) return fallback;
        let n = MathTrunc(+value) || 0;
        if (n < 0) n = MathMax(size + n, 0);
        return MathMin(n, size);
      };
      const from = clamp(start, 0);
      const to = clamp(end, size);
      const blob = new Blob();
      blob.#bytes = this.#bytes.slice(from, MathMax(from, to));
      blob.#type = contentType === undefined ? "" : normalizeBlobType(StringCtor(contentType));
      return blob;
    }
    text() {
      try {
        return PromiseCtor.resolve(host.utf8Decode(this.#bytes, false, false));
      } catch (e) {
        return PromiseCtor.reject(e);
      }
    }
    arrayBuffer() {
      return PromiseCtor.resolve(this.#bytes.slice().buffer);
    }
    bytes() {
      return PromiseCtor.resolve(this.#bytes.slice());
    }
    stream() {
      return streams().streamFromBytes(this.#bytes);
    }
    get [Symbol.toStringTag]() {
      return "Blob";
    }
    static {
      blobBytes = (value) => (value !== null && typeof value === "object" && #bytes in value ? value.#bytes : undefined);
    }
  }
  let fileParts;
  class File extends Blob {
    #name;
    #lastModified;
    constructor(fileBits, fileName, options = undefined) {
      if (arguments.length < 2) throw new TypeErrorCtor(`Failed to construct 'File': 2 arguments required, but only ${arguments.length} present.`);
      super(fileBits, options);
      this.#name = usv(fileName);
      const lastModified = options?.lastModified;
      this.#lastModified = lastModified === undefined ? DateNow() : MathTrunc(+lastModified) || 0;
    }
    get name() {
      return this.#name;
    }
    get lastModified() {
      return this.#lastModified;
    }
    get webkitRelativePath() {
      return "";
    }
    get [Symbol.toStringTag]() {
      return "File";
    }
    static {
      fileParts = (value) => (value !== null && typeof value === "object" && #name in value ? value.#name : undefined);
    }
  }
  const isBlob = (value) => blobBytes(value) !== undefined;

  // ---- FormData
  let formEntries;
  // An entry value: a string, or a File (a Blob is wrapped in a File named
  // "blob", or `filename`), as the XHR spec's "create an entry" says.
  function formValue(value, filename, argc, method) {
    if (isBlob(value)) {
      const name = filename !== undefined ? usv(filename) : fileParts(value) ?? "blob";
      if (fileParts(value) !== undefined && filename === undefined) return value;
      return new File([value], name, { type: value.type, lastModified: fileParts(value) !== undefined ? value.lastModified : undefined });
    }
    if (argc > 2) throw new TypeErrorCtor(`Failed to execute '${method}' on 'FormData': parameter 2 is not of type 'Blob'.`);
    return usv(value);
  }
  class FormData {
    #entries = [];
    constructor(form = undefined, submitter = undefined) {
      if (form !== undefined) throw new TypeErrorCtor("Failed to construct 'FormData': forms are not supported in workers; construct an empty FormData.");
    }
    append(name, value, filename = undefined) {
      if (arguments.length < 2) throw new TypeErrorCtor(`Failed to execute 'append' on 'FormData': 2 arguments required, but only ${arguments.length} present.`);
      push(this.#entries, [usv(name), formValue(value, filename, arguments.length, "append")]);
    }
    set(name, value, filename = undefined) {
      if (arguments.length < 2) throw new TypeErrorCtor(`Failed to execute 'set' on 'FormData': 2 arguments required, but only ${arguments.length} present.`);
      name = usv(name);
      const entry = [name, formValue(value, filename, arguments.length, "set")];
      const out = [];
      let placed = false;
      for (const e of this.#entries) {
        if (e[0] !== name) push(out, e);
        else if (!placed) {
          push(out, entry);
          placed = true;
        }
      }
      if (!placed) push(out, entry);
      this.#entries = out;
    }
    delete(name) {
      name = usv(name);
      this.#entries = this.#entries.filter((e) => e[0] !== name);
    }
    get(name) {
      name = usv(name);
      const found = this.#entries.find((e) => e[0] === name);
      return found === undefined ? null : found[1];
    }
    getAll(name) {
      name = usv(name);
      return this.#entries.filter((e) => e[0] === name).map((e) => e[1]);
    }
    has(name) {
      name = usv(name);
      return this.#entries.some((e) => e[0] === name);
    }
    forEach(callback, thisArg = undefined) {
      if (typeof callback !== "function") throw new TypeErrorCtor("Failed to execute 'forEach' on 'FormData': The callback provided as parameter 1 is not a function.");
      for (let i = 0; i < this.#entries.length; i++) {
        const e = this.#entries[i];
        ReflectApply(callback, thisArg, [e[1], e[0], this]);
      }
    }
    entries() {
      return formDataIterator(this, "key+value");
    }
    keys() {
      return formDataIterator(this, "key");
    }
    values() {
      return formDataIterator(this, "value");
    }
    [SymbolIterator]() {
      return formDataIterator(this, "key+value");
    }
    get [Symbol.toStringTag]() {
      return "FormData";
    }
    static {
      formEntries = (value) => (value !== null && typeof value === "object" && #entries in value ? value.#entries : undefined);
    }
  }
  const formDataIterator = pairIterator("FormData", (form) => formEntries(form));

  // multipart/form-data, as the HTML spec serializes it.
  const escapeFormName = (name) => name.replace(/\r\n|\r|\n/g, "\r\n").replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/"/g, "%22");
  const escapeFileName = (name) => name.replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/"/g, "%22");
  function serializeMultipart(entries) {
    const random = host.getRandomValues(new Uint8ArrayCtor(12));
    let boundary = "----isola-formdata-";
    for (let i = 0; i < random.length; i++) boundary += (random[i] & 0x0f).toString(16) + (random[i] >> 4).toString(16);
    const chunks = [];
    for (const [name, value] of entries) {
      let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeFormName(name)}"`;
      if (typeof value === "string") {
        push(chunks, host.utf8Encode(`${head}\r\n\r\n${value.replace(/\r\n|\r|\n/g, "\r\n")}\r\n`));
      } else {
        head += `; filename="${escapeFileName(fileParts(value))}"\r\nContent-Type: ${value.type || "application/octet-stream"}\r\n\r\n`;
        push(chunks, host.utf8Encode(head));
        push(chunks, blobBytes(value));
        push(chunks, host.utf8Encode("\r\n"));
      }
    }
    push(chunks, host.utf8Encode(`--${boundary}--\r\n`));
    return [concatBytes(chunks), `multipart/form-data; boundary=${boundary}`];
  }

  // ---- bodies: bytes (Uint8Array) or null, with a used flag
  function extractBody(body, headers) {
    if (body === undefined || body === null) return null;
    const setType = (type) => {
      if (type !== "" && !headers.has("content-type")) headers.set("content-type", type);
    };
    if (typeof body === "string") {
      setType("text/plain;charset=UTF-8");
      return host.utf8Encode(body);
    }
    const copied = copyBufferSource(body);
    if (copied !== undefined) return copied;
    const blob = blobBytes(body);
    if (blob !== undefined) {
      setType(body.type);
      return blob;
    }
    if (body instanceof URLSearchParams) {
      setType("application/x-www-form-urlencoded;charset=UTF-8");
      return host.utf8Encode(body.toString());
    }
    const entries = formEntries(body);
    if (entries !== undefined) {
      const [bytes, type] = serializeMultipart(entries);
      setType(type);
      return bytes;
    }
    if (isStream(body)) {
      const s = streams();
      if (s.isReadableStreamLocked(body) || s.isReadableStreamDisturbed(body)) throw new TypeErrorCtor("The ReadableStream body is locked or has been read from.");
      return body;
    }
    setType("text/plain;charset=UTF-8");
    return host.utf8Encode(StringCtor(body));
  }
  // A body is null, bytes (a Uint8Array of our own) or a ReadableStream.
  const streams = () => load("isola:streams");
  const isStream = (value) => value !== null && typeof value === "object" && !(value instanceof Uint8ArrayCtor) && streams().isReadableStream(value);
  const isBytes = (body) => body instanceof Uint8ArrayCtor;
  // Unpatchable views of a body's bytes: its length and a slice of it.
  const TypedArrayPrototype = ObjectGetPrototypeOf(Uint8ArrayCtor.prototype);
  const TypedArrayByteLength = Object.getOwnPropertyDescriptor(TypedArrayPrototype, "byteLength").get;
  const TypedArraySubarray = TypedArrayPrototype.subarray;
  const byteLength = (bytes) => ReflectApply(TypedArrayByteLength, bytes, []);
  const subarray = (bytes, start, end) => ReflectApply(TypedArraySubarray, bytes, [start, end]);
  // A streamed Response's bytes up to this size go in one op with its head;
  // bigger ones in slices of BODY_SLICE_BYTES.
  const WHOLE_BODY_BYTES = 1 << 20;
  const BODY_SLICE_BYTES = 256 << 10;
  const bodyUsed = (state) => state.used || (state.body !== null && !isBytes(state.body) && streams().isReadableStreamDisturbed(state.body));
  // A clone's body: the same bytes, or one branch of a tee (the original
  // keeps the other).
  function cloneBody(state) {
    if (state.body === null || isBytes(state.body)) return state.body;
    const [mine, theirs] = state.body.tee();
    state.body = mine;
    return theirs;
  }

  let requestState;
  let responseState;
  function bodyState(self) {
    const state = requestState(self) ?? responseState(self);
    if (state === undefined) throw new TypeErrorCtor("Illegal invocation");
    return state;
  }
  function consume(self) {
    let state;
    try {
      state = bodyState(self);
    } catch (e) {
      return PromiseCtor.reject(e);
    }
    if (bodyUsed(state)) return PromiseCtor.reject(new TypeErrorCtor("Body has already been used. It can only be used once. Use tee() first if you need to read it twice."));
    if (state.body !== null && !isBytes(state.body)) {
      if (streams().isReadableStreamLocked(state.body)) return PromiseCtor.reject(new TypeErrorCtor("The body's ReadableStream is locked."));
      state.used = true;
      return streams().readAllBytes(state.body);
    }
    state.used = true;
    return PromiseCtor.resolve(state.body === null ? new Uint8ArrayCtor(0) : state.body);
  }
  const mimeEssence = (type) => (type ?? "").split(";")[0].trim().toLowerCase();
  function parseFormData(bytes, contentType) {
    const essence = mimeEssence(contentType);
    const form = new FormData();
    if (essence === "multipart/form-data") {
      const parts = host.multipartParse(bytes, contentType);
      if (parts === null) throw new TypeErrorCtor("Failed to parse body as FormData.");
      for (const [name, value, filename, type] of parts) {
        if (filename === undefined) form.append(name, value);
        else form.append(name, new File([value], filename, { type }));
      }
      return form;
    }
    if (essence === "application/x-www-form-urlencoded") {
      for (const [name, value] of host.formParse(host.utf8Decode(bytes, false, false))) form.append(name, value);
      return form;
    }
    throw new TypeErrorCtor("Failed to parse body as FormData: the Content-Type is neither multipart/form-data nor application/x-www-form-urlencoded.");
  }
  const BodyMixin = {
    get body() {
      const state = bodyState(this);
      if (state.body === null) return null;
      if (isBytes(state.body)) {
        // From now on the stream is the body; bytes already consumed make
        // an empty, disturbed-looking stream rather than a second copy.
        state.body = streams().streamFromBytes(state.used ? new Uint8ArrayCtor(0) : state.body);
      }
      return state.body;
    },
    get bodyUsed() {
      return bodyUsed(bodyState(this));
    },
    arrayBuffer() {
      return then(consume(this), (b) => b.slice().buffer);
    },
    bytes() {
      return then(consume(this), (b) => b.slice());
    },
    text() {
      return then(consume(this), (b) => host.utf8Decode(b, false, false));
    },
    json() {
      return then(consume(this), (b) => JSONParse(host.utf8Decode(b, false, false)));
    },
    blob() {
      const headers = this.headers;
      return then(consume(this), (b) => new Blob([b], { type: headers.get("content-type") ?? "" }));
    },
    formData() {
      const headers = this.headers;
      return then(consume(this), (b) => parseFormData(b, headers.get("content-type")));
    },
  };
  function mixBody(Class) {
    for (const key of Object.getOwnPropertyNames(BodyMixin)) {
      ObjectDefineProperty(Class.prototype, key, { __proto__: null, ...Object.getOwnPropertyDescriptor(BodyMixin, key), enumerable: true });
    }
  }

  // ---- Request
  const METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PATCH", "PUT"];
  const FORBIDDEN_METHODS = ["CONNECT", "TRACE", "TRACK"];
  const REDIRECTS = ["follow", "error", "manual"];
  class Request {
    #state;
    constructor(input, init = undefined) {
      if (arguments.length < 1) throw new TypeErrorCtor("Failed to construct 'Request': 1 argument required, but only 0 present.");
      if (init !== undefined && init !== null && typeof init !== "object" && typeof init !== "function") {
        throw new TypeErrorCtor("Failed to construct 'Request': The provided value is not of type 'RequestInit'.");
      }
      init ??= {};
      const source = requestState(input);
      let url;
      let method = "GET";
      let headers;
      let body = null;
      let redirect = "follow";
      let signal = null;
      if (source !== undefined) {
        url = source.url;
        method = source.method;
        headers = source.headers;
        redirect = source.redirect;
        signal = source.signal;
        if (source.body !== null) {
          if (source.used) throw new TypeErrorCtor("Cannot construct a Request with a Request object that has already been used.");
          body = source.body;
        }
      } else {
        const parsed = host.urlParse(StringCtor(input), undefined);
        if (parsed === null) throw new TypeErrorCtor(`Failed to construct 'Request': Invalid URL: ${StringCtor(input)}`);
        url = parsed[0];
        if (parsed[3] !== "" || parsed[4] !== "") throw new TypeErrorCtor(`Failed to construct 'Request': Request cannot be constructed from a URL that includes credentials: ${url}`);
      }
      if (init.method !== undefined) {
        method = StringCtor(init.method);
        if (!matches(TOKEN, method)) throw new TypeErrorCtor(`Failed to construct 'Request': '${method}' is not a valid HTTP method.`);
        const upper = method.toUpperCase();
        if (FORBIDDEN_METHODS.includes(upper)) throw new TypeErrorCtor(`Failed to construct 'Request': '${method}' HTTP method is unsupported.`);
        if (METHODS.includes(upper) && upper !== "PATCH") method = upper;
      }
      if (init.redirect !== undefined) {
        redirect = StringCtor(init.redirect);
        if (!REDIRECTS.includes(redirect)) throw new TypeErrorCtor(`Failed to construct 'Request': The provided value '${redirect}' is not a valid enum value of type RequestRedirect.`);
      }
      if (init.signal !== undefined) {
        if (init.signal !== null && !(init.signal instanceof AbortSignal)) throw new TypeErrorCtor("Failed to construct 'Request': member signal is not of type AbortSignal.");
        signal = init.signal;
      }
      const ownHeaders = new Headers(init.headers !== undefined ? init.headers : headers);
      if (init.body !== undefined && init.body !== null) {
        if (method === "GET" || method === "HEAD") throw new TypeErrorCtor("Failed to construct 'Request': Request with GET/HEAD method cannot have body.");
        body = extractBody(init.body, ownHeaders);
      } else if (init.body === null && source === undefined) {
        body = null;
      }
      if (body !== null && (method === "GET" || method === "HEAD")) throw new TypeErrorCtor("Failed to construct 'Request': Request with GET/HEAD method cannot have body.");
      if (source !== undefined && source.body !== null && init.body === undefined) {
        if (bodyUsed(source)) throw new TypeErrorCtor("Cannot construct a Request with a Request object that has already been used.");
        source.used = true;
      }
      this.#state = { url, method, headers: ownHeaders, redirect, signal: signal ?? new AbortController().signal, body, used: false };
    }
    get method() {
      return this.#state.method;
    }
    get url() {
      return this.#state.url;
    }
    get headers() {
      return this.#state.headers;
    }
    get redirect() {
      return this.#state.redirect;
    }
    get signal() {
      return this.#state.signal;
    }
    get keepalive() {
      return false;
    }
    get integrity() {
      return "";
    }
    clone() {
      const state = this.#state;
      if (bodyUsed(state)) throw new TypeErrorCtor("Failed to execute 'clone' on 'Request': Request body is already used");
      const copy = new Request(state.url, { method: state.method, headers: state.headers, redirect: state.redirect, signal: state.signal });
      requestState(copy).body = cloneBody(state);
      return copy;
    }
    get [Symbol.toStringTag]() {
      return "Request";
    }
    static {
      requestState = (value) => (value !== null && typeof value === "object" && #state in value ? value.#state : undefined);
    }
  }
  mixBody(Request);

  // ---- Response
  const NULL_BODY = [101, 103, 204, 205, 304];
  const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;
  class Response {
    #state;
    constructor(body = null, init = undefined) {
      if (init !== undefined && init !== null && typeof init !== "object" && typeof init !== "function") {
        throw new TypeErrorCtor("Failed to construct 'Response': The provided value is not of type 'ResponseInit'.");
      }
      init ??= {};
      const status = init.status === undefined ? 200 : +init.status;
      if (!(status >= 200 && status <= 599) || status % 1 !== 0) throw new RangeErrorCtor(`Failed to construct 'Response': The status provided (${init.status}) is outside the range [200, 599].`);
      const statusText = init.statusText === undefined ? "" : StringCtor(init.statusText);
      if (!matches(REASON_PHRASE, statusText)) throw new TypeErrorCtor("Failed to construct 'Response': Invalid statusText");
      const headers = new Headers(init.headers);
      const bytes = extractBody(body, headers);
      if (bytes !== null && NULL_BODY.includes(status)) throw new TypeErrorCtor("Failed to construct 'Response': Response with null body status cannot have body");
      this.#state = { status, statusText, headers, type: "default", url: "", redirected: false, body: bytes, used: false };
    }
    get status() {
      return this.#state.status;
    }
    get statusText() {
      return this.#state.statusText;
    }
    get headers() {
      return this.#state.headers;
    }
    get type() {
      return this.#state.type;
    }
    get url() {
      return this.#state.url;
    }
    get redirected() {
      return this.#state.redirected;
    }
    get ok() {
      return this.#state.status >= 200 && this.#state.status <= 299;
    }
    clone() {
      const state = this.#state;
      if (bodyUsed(state)) throw new TypeErrorCtor("Failed to execute 'clone' on 'Response': Response body is already used");
      const copy = new Response(null);
      copy.#state = { ...state, headers: new Headers(state.headers), body: cloneBody(state), used: false };
      if (state.headers[kGuard] === "immutable") copy.#state.headers[kGuard] = "immutable";
      return copy;
    }
    static json(data, init = undefined) {
      const text = JSONStringify(data);
      if (text === undefined) throw new TypeErrorCtor("Failed to execute 'json' on 'Response': The data is not JSON serializable");
      const headers = new Headers(init?.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      return new Response(text, { status: init?.status, statusText: init?.statusText, headers });
    }
    static redirect(url, status = 302) {
      status = +status;
      if (![301, 302, 303, 307, 308].includes(status)) throw new RangeErrorCtor(`Failed to execute 'redirect' on 'Response': Invalid status code ${status}`);
      const parsed = host.urlParse(StringCtor(url), undefined);
      if (parsed === null) throw new TypeErrorCtor(`Failed to execute 'redirect' on 'Response': Invalid URL: ${StringCtor(url)}`);
      const response = new Response(null, { status, headers: { location: parsed[0] } });
      response.#state.headers[kGuard] = "immutable";
      return response;
    }
    static error() {
      const response = new Response(null);
      response.#state.status = 0;
      response.#state.type = "error";
      response.#state.headers[kGuard] = "immutable";
      return response;
    }
    get [Symbol.toStringTag]() {
      return "Response";
    }
    static {
      responseState = (value) => (value !== null && typeof value === "object" && #state in value ? value.#state : undefined);
    }
  }
  mixBody(Response);
  function makeResponse(status, statusText, headers, body, url) {
    const response = new Response(null);
    const state = responseState(response);
    state.status = status;
    state.statusText = statusText;
    state.headers = immutableHeaders(headers);
    state.body = body;
    state.url = url;
    return response;
  }
  function responseParts(value) {
    const state = responseState(value);
    if (state === undefined) throw new TypeErrorCtor("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
    return then(consume(value), (body) => [state.status, state.statusText, headerPairs(state.headers), body]);
  }
  // A fetch handler's Response whose whole body is at hand (none, or small
  // bytes): a promise of its parts, as `responseParts` gives, with the body
  // marked used; `undefined` when the body must be streamed (or the value
  // is not a usable Response: `streamResponse` says why). A streamed call
  // settles with such a Response at once, and the host hands it to the
  // stream itself: no round trip for its head.
  function wholeResponse(value) {
    const state = responseState(value);
    if (state === undefined) return undefined;
    const body = bodyState(value);
    if (bodyUsed(body)) return undefined;
    if (body.body !== null && !(isBytes(body.body) && byteLength(body.body) <= WHOLE_BODY_BYTES)) return undefined;
    body.used = true;
    return PromiseCtor.resolve([state.status, state.statusText, headerPairs(state.headers), body.body ?? new Uint8ArrayCtor(0)]);
  }
  // A fetch handler's Response, streamed: `sendHead(status, statusText,
  // headerPairs, bytesOrLength)` once — with the whole body when it is
  // small bytes, or else the length of big bytes or `undefined` for a
  // stream, whose chunks follow one `sendChunk(bytes)` at a time, each
  // waiting for the previous to be taken.
  function streamResponse(value, sendHead, sendChunk) {
    const state = responseState(value);
    if (state === undefined) throw new TypeErrorCtor("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
    const body = bodyState(value);
    if (bodyUsed(body)) throw new TypeErrorCtor("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
    if (body.body === null || (isBytes(body.body) && byteLength(body.body) <= WHOLE_BODY_BYTES)) {
      // Small bytes go with the head: one op for the whole Response.
      body.used = true;
      return sendHead(state.status, state.statusText, headerPairs(state.headers), body.body ?? new Uint8ArrayCtor(0));
    }
    if (isBytes(body.body)) {
      // Big bytes go in slices after a head that declares their length,
      // so the host never holds more than a few slices of them.
      body.used = true;
      const bytes = body.body;
      const length = byteLength(bytes);
      let offset = 0;
      const next = () => {
        if (offset >= length) return undefined;
        const end = MathMin(offset + BODY_SLICE_BYTES, length);
        const slice = subarray(bytes, offset, end);
        offset = end;
        return then(sendChunk(slice), next);
      };
      return then(sendHead(state.status, state.statusText, headerPairs(state.headers), length), next);
    }
    if (streams().isReadableStreamLocked(body.body)) throw new TypeErrorCtor("The body's ReadableStream is locked.");
    body.used = true;
    const head = sendHead(state.status, state.statusText, headerPairs(state.headers), undefined);
    return then(head, () => streams().pumpBytes(body.body, sendChunk));
  }
  function bodyBytes(request) {
    if (requestState(request).body === null) return PromiseCtor.resolve(undefined);
    return consume(request);
  }
  // fetch(): `send(method, url, headerPairs, body)` starts the host op. An
  // abort of the request's signal rejects with its reason at once (the host
  // side may still finish; its answer is dropped).
  function startFetch(request, send) {
    const state = requestState(request);
    const signal = state.signal;
    if (signal.aborted) return PromiseCtor.reject(signal.reason);
    return new PromiseCtor((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      const settle = (f) => (value) => {
        signal.removeEventListener("abort", onAbort);
        f(value);
      };
      then(
        then(bodyBytes(request), (body) => send(state.method, state.url, headerPairs(state.headers), body, state.redirect)),
        settle(resolve),
        settle(reject),
      );
    });
  }

  // ---- URL and URLSearchParams (parsing by the `url` crate)
  const kParts = Symbol("parts");
  const kParams = Symbol("params");
  const kUrl = Symbol("url");
  const PART = { href: 0, origin: 1, protocol: 2, username: 3, password: 4, host: 5, hostname: 6, port: 7, pathname: 8, search: 9, hash: 10 };
  class URL {
    constructor(url, base = undefined) {
      const parts = host.urlParse(StringCtor(url), base === undefined ? undefined : StringCtor(base));
      if (parts === null) throw new TypeErrorCtor(`Invalid URL string.`);
      this[kParts] = parts;
      this[kParams] = null;
    }
    static canParse(url, base = undefined) {
      return host.urlParse(StringCtor(url), base === undefined ? undefined : StringCtor(base)) !== null;
    }
    static parse(url, base = undefined) {
      try {
        return new URL(url, base);
      } catch {
        return null;
      }
    }
    get searchParams() {
      if (this[kParams] === null) {
        this[kParams] = new URLSearchParams(this[kParts][PART.search]);
        this[kParams][kUrl] = this;
      }
      return this[kParams];
    }
    toString() {
      return this[kParts][0];
    }
    toJSON() {
      return this[kParts][0];
    }
    get [Symbol.toStringTag]() {
      return "URL";
    }
  }
  for (const name of Object.keys(PART)) {
    const index = PART[name];
    const descriptor = {
      __proto__: null,
      configurable: true,
      enumerable: true,
      get() {
        return this[kParts][index];
      },
    };
    if (name !== "origin") {
      descriptor.set = function (value) {
        const parts = host.urlSet(this[kParts][0], name, StringCtor(value));
        if (parts === null) {
          if (name === "href") throw new TypeErrorCtor(`Invalid URL string.`);
          return;
        }
        this[kParts] = parts;
        if (name === "search" || name === "href") {
          if (this[kParams] !== null) this[kParams][kList] = host.formParse(parts[PART.search]);
        }
      };
    }
    ObjectDefineProperty(URL.prototype, name, descriptor);
  }

  class URLSearchParams {
    constructor(init = "") {
      this[kUrl] = null;
      if (typeof init === "object" && init !== null) {
        this[kList] = [];
        if (typeof init[SymbolIterator] === "function") {
          for (const pair of init) {
            const p = [...pair];
            if (p.length !== 2) throw new TypeErrorCtor("Each query pair must be an iterable [name, value] tuple");
            push(this[kList], [usv(p[0]), usv(p[1])]);
          }
        } else {
          // record<USVString, USVString>: keys that become equal once made
          // well-formed keep the first position and the last value.
          for (const k of Object.keys(init)) {
            const key = usv(k);
            const value = usv(init[k]);
            const existing = this[kList].find((p) => p[0] === key);
            if (existing === undefined) push(this[kList], [key, value]);
            else existing[1] = value;
          }
        }
      } else {
        this[kList] = host.formParse(usv(init));
      }
    }
    get size() {
      return this[kList].length;
    }
    append(name, value) {
      push(this[kList], [usv(name), usv(value)]);
      update(this);
    }
    delete(name, value = undefined) {
      name = usv(name);
      this[kList] = this[kList].filter((p) => !(p[0] === name && (value === undefined || p[1] === usv(value))));
      update(this);
    }
    get(name) {
      name = usv(name);
      const found = this[kList].find((p) => p[0] === name);
      return found === undefined ? null : found[1];
    }
    getAll(name) {
      name = usv(name);
      return this[kList].filter((p) => p[0] === name).map((p) => p[1]);
    }
    has(name, value = undefined) {
      name = usv(name);
      return this[kList].some((p) => p[0] === name && (value === undefined || p[1] === usv(value)));
    }
    set(name, value) {
      name = usv(name);
      value = usv(value);
      const out = [];
      let placed = false;
      for (const p of this[kList]) {
        if (p[0] !== name) push(out, p);
        else if (!placed) {
          push(out, [name, value]);
          placed = true;
        }
      }
      if (!placed) push(out, [name, value]);
      this[kList] = out;
      update(this);
    }
    sort() {
      const list = this[kList];
      // Stable sort by UTF-16 code units of the name.
      const indexed = list.map((p, i) => [p, i]);
      ReflectApply(ArrayPrototypeSort, indexed, [(a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1])]);
      this[kList] = indexed.map((x) => x[0]);
      update(this);
    }
    forEach(callback, thisArg = undefined) {
      // Live: entries appended or removed by the callback are seen.
      for (let i = 0; i < this[kList].length; i++) {
        const pair = this[kList][i];
        ReflectApply(callback, thisArg, [pair[1], pair[0], this]);
      }
    }
    entries() {
      return searchParamsIterator(this, "key+value");
    }
    keys() {
      return searchParamsIterator(this, "key");
    }
    values() {
      return searchParamsIterator(this, "value");
    }
    [SymbolIterator]() {
      return searchParamsIterator(this, "key+value");
    }
    toString() {
      return host.formSerialize(this[kList]);
    }
    get [Symbol.toStringTag]() {
      return "URLSearchParams";
    }
  }
  const searchParamsIterator = pairIterator("URLSearchParams", (params) => params[kList]);
  function update(params) {
    const url = params[kUrl];
    if (url === null) return;
    const query = host.formSerialize(params[kList]);
    const parts = host.urlSet(url[kParts][0], "search", query);
    if (parts !== null) url[kParts] = parts;
  }

  // ---- TextEncoder / TextDecoder (UTF-8; other encodings come with the web-platform issue)
  class TextEncoder {
    get encoding() {
      return "utf-8";
    }
    encode(input = "") {
      return host.utf8Encode(StringCtor(input));
    }
    encodeInto(source, destination) {
      const bytes = host.utf8Encode(StringCtor(source));
      let n = Math.min(bytes.length, destination.length);
      // Never split a code point.
      while (n > 0 && n < bytes.length && (bytes[n] & 0xc0) === 0x80) n--;
      destination.set(bytes.subarray(0, n));
      const read = host.utf8Decode(bytes.subarray(0, n), false, true).length;
      return { read, written: n };
    }
  }
  // Decoding (all encodings of the Encoding Standard, streaming) is done by
  // `encoding_rs`; the decoder's state between chunks lives on the host.
  const kDecoder = Symbol("decoder");
  class TextDecoder {
    constructor(label = "utf-8", options = undefined) {
      if (options !== undefined && options !== null && typeof options !== "object") {
        throw new TypeErrorCtor("Failed to construct 'TextDecoder': The provided value is not of type 'TextDecoderOptions'.");
      }
      const fatal = !!options?.fatal;
      const ignoreBOM = !!options?.ignoreBOM;
      const opened = host.decoderOpen(StringCtor(label), fatal, ignoreBOM);
      if (opened === null) throw new RangeErrorCtor(`Failed to construct 'TextDecoder': The encoding label provided ('${label}') is invalid.`);
      this[kDecoder] = { id: opened[0], encoding: opened[1], fatal, ignoreBOM };
    }
    get encoding() {
      return this[kDecoder].encoding;
    }
    get fatal() {
      return this[kDecoder].fatal;
    }
    get ignoreBOM() {
      return this[kDecoder].ignoreBOM;
    }
    decode(input = undefined, options = undefined) {
      const state = this[kDecoder];
      if (state === undefined) throw new TypeErrorCtor("Illegal invocation");
      let bytes;
      if (input === undefined || input === null) bytes = new Uint8ArrayCtor(0);
      else if (input instanceof ArrayBufferCtor) bytes = new Uint8ArrayCtor(input);
      else if (ArrayBufferIsView(input)) bytes = new Uint8ArrayCtor(input.buffer, input.byteOffset, input.byteLength);
      else throw new TypeErrorCtor("Failed to execute 'decode' on 'TextDecoder': parameter 1 is not of type 'ArrayBuffer or ArrayBufferView'.");
      return host.decoderDecode(state.id, bytes, !!options?.stream);
    }
    get [Symbol.toStringTag]() {
      return "TextDecoder";
    }
  }

  // ---- Event, CustomEvent, EventTarget (DOM Standard, without a tree: every
  // dispatch is at the target)
  const kEvent = Symbol("event");
  const kDetail = Symbol("detail");
  const kListeners = Symbol("listeners");
  class Event {
    constructor(type, init = undefined) {
      if (arguments.length === 0) throw new TypeErrorCtor("Failed to construct 'Event': 1 argument required, but only 0 present.");
      this[kEvent] = {
        type: StringCtor(type),
        bubbles: !!init?.bubbles,
        cancelable: !!init?.cancelable,
        composed: !!init?.composed,
        canceled: false,
        target: null,
        currentTarget: null,
        phase: 0,
        stop: false,
        stopImmediate: false,
        passive: false,
        dispatching: false,
        timeStamp: Date.now(),
      };
    }
    get type() { return this[kEvent].type; }
    get target() { return this[kEvent].target; }
    get srcElement() { return this[kEvent].target; }
    get currentTarget() { return this[kEvent].currentTarget; }
    get eventPhase() { return this[kEvent].phase; }
    get bubbles() { return this[kEvent].bubbles; }
    get cancelable() { return this[kEvent].cancelable; }
    get composed() { return this[kEvent].composed; }
    get defaultPrevented() { return this[kEvent].canceled; }
    get returnValue() { return !this[kEvent].canceled; }
    set returnValue(value) { if (!value) this.preventDefault(); }
    get cancelBubble() { return this[kEvent].stop; }
    set cancelBubble(value) { if (value) this[kEvent].stop = true; }
    get timeStamp() { return this[kEvent].timeStamp; }
    get isTrusted() { return this[kEvent].trusted === true; }
    composedPath() { return this[kEvent].currentTarget ? [this[kEvent].currentTarget] : []; }
    stopPropagation() { this[kEvent].stop = true; }
    stopImmediatePropagation() { this[kEvent].stop = true; this[kEvent].stopImmediate = true; }
    preventDefault() { if (this[kEvent].cancelable && !this[kEvent].passive) this[kEvent].canceled = true; }
    initEvent(type, bubbles = false, cancelable = false) {
      const e = this[kEvent];
      if (e.dispatching) return;
      e.type = StringCtor(type); e.bubbles = !!bubbles; e.cancelable = !!cancelable;
      e.stop = false; e.stopImmediate = false; e.canceled = false;
    }
    get [Symbol.toStringTag]() { return "Event"; }
  }
  for (const [name, value] of [["NONE", 0], ["CAPTURING_PHASE", 1], ["AT_TARGET", 2], ["BUBBLING_PHASE", 3]]) {
    ObjectDefineProperty(Event, name, { __proto__: null, value, enumerable: true });
    ObjectDefineProperty(Event.prototype, name, { __proto__: null, value, enumerable: true });
  }
  class CustomEvent extends Event {
    constructor(type, init = undefined) {
      super(type, init);
      this[kDetail] = init?.detail ?? null;
    }
    get detail() { return this[kDetail]; }
    get [Symbol.toStringTag]() { return "CustomEvent"; }
  }
  const flatten = (options) => (typeof options === "boolean" ? options : !!options?.capture);
  class EventTarget {
    constructor() {
      this[kListeners] = new Map();
    }
    addEventListener(type, callback, options = undefined) {
      if (callback === null || callback === undefined) return;
      const capture = flatten(options);
      const once = typeof options === "object" && options !== null && !!options.once;
      const passive = typeof options === "object" && options !== null && !!options.passive;
      const signal = typeof options === "object" && options !== null ? options.signal : undefined;
      if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeErrorCtor("Failed to execute 'addEventListener': member signal is not of type AbortSignal.");
      if (signal?.aborted) return;
      type = StringCtor(type);
      let list = this[kListeners].get(type);
      if (list === undefined) this[kListeners].set(type, (list = []));
      for (const l of list) if (l.callback === callback && l.capture === capture) return;
      const listener = { callback, capture, once, passive, removed: false };
      push(list, listener);
      if (signal !== undefined) signal.addEventListener("abort", () => this.removeEventListener(type, callback, { capture }));
    }
    removeEventListener(type, callback, options = undefined) {
      const capture = flatten(options);
      const list = this[kListeners].get(StringCtor(type));
      if (list === undefined) return;
      for (let i = 0; i < list.length; i++) {
        if (list[i].callback === callback && list[i].capture === capture) {
          list[i].removed = true;
          list.splice(i, 1);
          return;
        }
      }
    }
    dispatchEvent(event) {
      if (!(event instanceof Event)) throw new TypeErrorCtor("Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'.");
      const state = event[kEvent];
      if (state.dispatching) throw new DOMException("The event is already being dispatched.", "InvalidStateError");
      state.dispatching = true;
      state.target = this;
      state.currentTarget = this;
      state.phase = 2;
      const list = this[kListeners].get(state.type);
      if (list !== undefined && !state.stop) {
        for (const listener of list.slice()) {
          if (listener.removed) continue;
          if (listener.once) this.removeEventListener(state.type, listener.callback, { capture: listener.capture });
          state.passive = listener.passive;
          try {
            const callback = listener.callback;
            if (typeof callback === "function") ReflectApply(callback, this, [event]);
            else if (typeof callback?.handleEvent === "function") callback.handleEvent(event);
          } catch (error) {
            reportError(error);
          }
          state.passive = false;
          if (state.stopImmediate) break;
        }
      }
      state.dispatching = false;
      state.currentTarget = null;
      state.phase = 0;
      state.stop = false;
      state.stopImmediate = false;
      return !state.canceled;
    }
    get [Symbol.toStringTag]() { return "EventTarget"; }
  }

  // ---- AbortController, AbortSignal
  const kCreate = Symbol("create");
  const kAbort = Symbol("abort");
  class AbortSignal extends EventTarget {
    constructor(key = undefined) {
      if (key !== kCreate) throw new TypeErrorCtor("Illegal constructor");
      super();
      this[kAbort] = { aborted: false, reason: undefined, onabort: null };
    }
    get aborted() { return this[kAbort].aborted; }
    get reason() { return this[kAbort].reason; }
    throwIfAborted() { if (this[kAbort].aborted) throw this[kAbort].reason; }
    get onabort() { return this[kAbort].onabort; }
    set onabort(handler) {
      const state = this[kAbort];
      if (state.handler) this.removeEventListener("abort", state.handler);
      state.onabort = typeof handler === "function" ? handler : null;
      state.handler = state.onabort ? (event) => ReflectApply(state.onabort, this, [event]) : null;
      if (state.handler) this.addEventListener("abort", state.handler);
    }
    static abort(reason = undefined) {
      const signal = new AbortSignal(kCreate);
      signalAbort(signal, reason);
      return signal;
    }
    static timeout(ms) {
      ms = +ms;
      if (!(ms >= 0) || ms > Number.MAX_SAFE_INTEGER) throw new TypeErrorCtor("Failed to execute 'timeout' on 'AbortSignal': Value is outside the 'unsigned long long' value range.");
      const signal = new AbortSignal(kCreate);
      setTimeout(() => signalAbort(signal, new DOMException("signal timed out", "TimeoutError")), ms);
      return signal;
    }
    static any(signals) {
      const result = new AbortSignal(kCreate);
      const list = [...signals];
      for (const s of list) {
        if (!(s instanceof AbortSignal)) throw new TypeErrorCtor("Failed to execute 'any' on 'AbortSignal': Failed to convert value to 'AbortSignal'.");
        if (s.aborted) {
          signalAbort(result, s.reason);
          return result;
        }
      }
      for (const s of list) s.addEventListener("abort", () => signalAbort(result, s.reason));
      return result;
    }
    get [Symbol.toStringTag]() { return "AbortSignal"; }
  }
  function controllerSignal(controller) {
    if (controller === null || typeof controller !== "object" || !ObjectHasOwn(controller, kSignal)) {
      throw new TypeErrorCtor("Illegal invocation: not an AbortController");
    }
    return controller[kSignal];
  }
  function signalAbort(signal, reason) {
    const state = signal[kAbort];
    if (state.aborted) return;
    state.aborted = true;
    state.reason = reason === undefined ? new DOMException("signal is aborted without reason", "AbortError") : reason;
    const event = new Event("abort");
    event[kEvent].trusted = true;
    signal.dispatchEvent(event);
  }
  const kSignal = Symbol("signal");
  class AbortController {
    constructor() {
      this[kSignal] = new AbortSignal(kCreate);
    }
    get signal() { return controllerSignal(this); }
    abort(reason = undefined) { signalAbort(controllerSignal(this), reason); }
    get [Symbol.toStringTag]() { return "AbortController"; }
  }

  return {
    __proto__: null,
    Event,
    CustomEvent,
    EventTarget,
    AbortSignal,
    AbortController,
    Headers,
    Request,
    Response,
    Blob,
    File,
    FormData,
    URL,
    URLSearchParams,
    TextEncoder,
    TextDecoder,
    headerPairs,
    bodyBytes,
    startFetch,
    makeResponse,
    responseParts,
    wholeResponse,
    streamResponse,
  };
});
