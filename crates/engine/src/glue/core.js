// The engine's own runtime, loaded on first use: console, timers,
// microtasks, structuredClone, reportError, CommonJS, and the helpers the
// Rust value codec uses. Its `internals` are what other extensions' glue
// builds on (`load("isola:core").internals`): `op`, the one way out of the
// isolate (engine/src/ops.rs), and capture-safe helpers.
(function (host, load) {
  "use strict";
  const op = host.op;
  const globals = { __proto__: null };
  const G = globalThis;
  const ObjectCreate = Object.create;
  const ObjectDefineProperty = Object.defineProperty;
  const ObjectFreeze = Object.freeze;
  const ObjectGetPrototypeOf = Object.getPrototypeOf;
  const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const ObjectKeys = Object.keys;
  const ObjectPrototype = Object.prototype;
  const ReflectApply = Reflect.apply;
  const PromiseCtor = Promise;
  const PromisePrototypeThen = Promise.prototype.then;
  const PromiseResolve = Promise.resolve.bind(Promise);
  const MapCtor = Map;
  const MapPrototypeGet = Map.prototype.get;
  const MapPrototypeSet = Map.prototype.set;
  const MapPrototypeDelete = Map.prototype.delete;
  const MapPrototypeForEach = Map.prototype.forEach;
  const SetPrototypeForEach = Set.prototype.forEach;
  const SetCtor = Set;
  const SetPrototypeAdd = Set.prototype.add;
  const ArrayIsArray = Array.isArray;
  const ArrayPrototypePush = Array.prototype.push;
  const ArrayPrototypeJoin = Array.prototype.join;
  const ArrayPrototypeSplice = Array.prototype.splice;
  const StringCtor = String;
  const StringPrototypeSlice = String.prototype.slice;
  const StringPrototypeReplace = String.prototype.replace;
  const FunctionPrototypeToString = Function.prototype.toString;
  const DatePrototypeGetTime = Date.prototype.getTime;
  const DatePrototypeToISOString = Date.prototype.toISOString;
  const DateNow = Date.now;
  const ErrorCtor = Error;
  const TypeErrorCtor = TypeError;
  const RegExpCtor = RegExp;
  const RegExpSource = ObjectGetOwnPropertyDescriptor(RegExp.prototype, "source").get;
  const RegExpFlags = ObjectGetOwnPropertyDescriptor(RegExp.prototype, "flags").get;
  const TypedArrayPrototype = ObjectGetPrototypeOf(Uint8Array.prototype);
  const TypedArrayBuffer = ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, "buffer").get;
  const TypedArrayByteOffset = ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, "byteOffset").get;
  const TypedArrayByteLength = ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, "byteLength").get;
  const TypedArrayToStringTag = ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag).get;
  const DataViewBuffer = ObjectGetOwnPropertyDescriptor(DataView.prototype, "buffer").get;
  const DataViewByteOffset = ObjectGetOwnPropertyDescriptor(DataView.prototype, "byteOffset").get;
  const DataViewByteLength = ObjectGetOwnPropertyDescriptor(DataView.prototype, "byteLength").get;
  const Uint8ArrayCtor = Uint8Array;
  const DataViewCtor = DataView;
  const JSONStringify = JSON.stringify;
  const SymbolPrototypeToString = Symbol.prototype.toString;
  const MathMin = Math.min;

  const call = (fn, self, ...args) => ReflectApply(fn, self, args);
  const then = (p, onOk, onErr) => ReflectApply(PromisePrototypeThen, p, [onOk, onErr]);
  const mapGet = (m, k) => ReflectApply(MapPrototypeGet, m, [k]);
  const mapSet = (m, k, v) => ReflectApply(MapPrototypeSet, m, [k, v]);
  const mapDelete = (m, k) => ReflectApply(MapPrototypeDelete, m, [k]);
  const push = (a, v) => ReflectApply(ArrayPrototypePush, a, [v]);
  const hidden = (obj, name, value) =>
    ObjectDefineProperty(obj, name, { __proto__: null, value, writable: true, configurable: true, enumerable: false });

  // ---- console
  function inspect(value, depth, seen) {
    switch (typeof value) {
      case "string":
        return depth === 0 ? value : JSONStringify(value);
      case "number":
        return value === 0 && 1 / value < 0 ? "-0" : StringCtor(value);
      case "bigint":
        return StringCtor(value) + "n";
      case "undefined":
        return "undefined";
      case "boolean":
        return value ? "true" : "false";
      case "symbol":
        return call(SymbolPrototypeToString, value);
      case "function": {
        const name = value.name;
        return name ? `[Function: ${name}]` : "[Function (anonymous)]";
      }
    }
    if (value === null) return "null";
    if (value instanceof ErrorCtor) {
      const stack = value.stack;
      const head = `${value.name}: ${value.message}`;
      return typeof stack === "string" && stack ? head + "\n" + stack : head;
    }
    if (seen.length > 8) return "[Object]";
    for (let i = 0; i < seen.length; i++) if (seen[i] === value) return "[Circular]";
    push(seen, value);
    try {
      if (value instanceof Date) {
        const t = call(DatePrototypeGetTime, value);
        return t === t ? call(DatePrototypeToISOString, value) : "Invalid Date";
      }
      if (ArrayIsArray(value)) {
        if (depth > 2) return "[Array]";
        const parts = [];
        const n = MathMin(value.length, 100);
        for (let i = 0; i < n; i++) push(parts, inspect(value[i], depth + 1, seen));
        if (value.length > n) push(parts, `... ${value.length - n} more items`);
        return "[ " + call(ArrayPrototypeJoin, parts, ", ") + " ]";
      }
      if (value instanceof MapCtor) {
        const parts = [];
        call(MapPrototypeForEach, value, (v, k) => push(parts, `${inspect(k, depth + 1, seen)} => ${inspect(v, depth + 1, seen)}`));
        return `Map(${parts.length}) { ${call(ArrayPrototypeJoin, parts, ", ")} }`;
      }
      if (value instanceof SetCtor) {
        const parts = [];
        call(SetPrototypeForEach, value, (v) => push(parts, inspect(v, depth + 1, seen)));
        return `Set(${parts.length}) { ${call(ArrayPrototypeJoin, parts, ", ")} }`;
      }
      if (value instanceof PromiseCtor) return "Promise { <pending> }";
      if (depth > 2) return "[Object]";
      const keys = ObjectKeys(value);
      const parts = [];
      const n = MathMin(keys.length, 100);
      for (let i = 0; i < n; i++) {
        const k = keys[i];
        push(parts, `${k}: ${inspect(value[k], depth + 1, seen)}`);
      }
      if (keys.length > n) push(parts, `... ${keys.length - n} more properties`);
      const proto = ObjectGetPrototypeOf(value);
      const ctor = proto && proto !== ObjectPrototype ? proto.constructor : undefined;
      const prefix = typeof ctor === "function" && ctor.name ? ctor.name + " " : "";
      return parts.length ? `${prefix}{ ${call(ArrayPrototypeJoin, parts, ", ")} }` : `${prefix}{}`;
    } finally {
      ArrayPrototypeSplice.call(seen, seen.length - 1, 1);
    }
  }
  function format(args) {
    const parts = [];
    let i = 0;
    if (typeof args[0] === "string" && args.length > 1) {
      let f = args[0];
      i = 1;
      f = call(StringPrototypeReplace, f, /%[sdifoOj%]/g, (m) => {
        if (m === "%%") return "%";
        if (i >= args.length) return m;
        const a = args[i++];
        if (m === "%s") return typeof a === "string" ? a : inspect(a, 1, []);
        if (m === "%d" || m === "%i") return StringCtor(m === "%i" ? Math.trunc(Number(a)) : Number(a));
        if (m === "%f") return StringCtor(Number(a));
        return inspect(a, 1, []);
      });
      push(parts, f);
    }
    for (; i < args.length; i++) push(parts, inspect(args[i], 0, []));
    return call(ArrayPrototypeJoin, parts, " ");
  }
  const console = ObjectCreate(ObjectPrototype);
  for (const level of ["log", "info", "warn", "error", "debug"]) {
    hidden(console, level, function (...args) {
      host.log(level, format(args));
    });
  }
  hidden(console, "trace", function (...args) {
    host.log("debug", format(args));
  });
  hidden(console, "assert", function (condition, ...args) {
    if (!condition) host.log("error", "Assertion failed" + (args.length ? ": " + format(args) : ""));
  });

  function reportErrorImpl(error) {
    host.log("error", "Uncaught " + inspect(error, 0, []));
  }

  // ---- timers and microtasks
  const timers = new MapCtor();
  const delayOf = (ms) => {
    ms = +ms;
    return ms >= 1 && ms <= 2147483647 ? ms - (ms % 1) : ms > 2147483647 ? 1 : 0;
  };
  function addTimer(callback, ms, args, repeat) {
    if (typeof callback !== "function") throw new TypeErrorCtor("The callback provided as parameter 1 is not a function.");
    const delay = delayOf(ms);
    const id = host.timer(delay, 0);
    mapSet(timers, id, [callback, args, repeat ? (delay < 1 ? 1 : delay) : 0]);
    return id;
  }
  function clearTimer(id) {
    if (typeof id !== "number") return;
    if (mapDelete(timers, id)) host.cancelTimer(id);
  }
  function fireTimer(id) {
    const t = mapGet(timers, id);
    if (t === undefined) return;
    if (t[2]) host.timer(t[2], id);
    else mapDelete(timers, id);
    try {
      ReflectApply(t[0], G, t[1]);
    } catch (e) {
      reportErrorImpl(e);
    }
  }
  globals.setTimeout = (function setTimeout(callback, ms, ...args) {
    return addTimer(callback, ms, args, false);
  });
  globals.setInterval = (function setInterval(callback, ms, ...args) {
    return addTimer(callback, ms, args, true);
  });
  globals.clearTimeout = (function clearTimeout(id) {
    clearTimer(id);
  });
  globals.clearInterval = (function clearInterval(id) {
    clearTimer(id);
  });
  const resolved = PromiseResolve();
  globals.queueMicrotask = (function queueMicrotask(callback) {
    if (typeof callback !== "function") throw new TypeErrorCtor("The callback provided as parameter 1 is not a function.");
    then(resolved, () => {
      try {
        callback();
      } catch (e) {
        reportErrorImpl(e);
      }
    });
  });

  globals.structuredClone = (function structuredClone(value) {
    return host.clone(value);
  });
  globals.reportError = function reportError(error) {
    reportErrorImpl(error);
  };

  // ---- CommonJS
  const cjsCache = new MapCtor();
  function cjsEvaluate(name, wrapper) {
    const cached = mapGet(cjsCache, name);
    if (cached !== undefined) return cached.exports;
    const module = { exports: {} };
    mapSet(cjsCache, name, module);
    const slash = name.lastIndexOf("/");
    const dirname = slash < 0 ? "" : call(StringPrototypeSlice, name, 0, slash);
    const require = (specifier) => host.require(name, StringCtor(specifier));
    ReflectApply(wrapper, module.exports, [module.exports, require, module, name, dirname]);
    return module.exports;
  }

  // ---- helpers for the Rust value codec (brand-checked, capture-safe)
  function dateValue(d) {
    return call(DatePrototypeGetTime, d);
  }
  function regexpParts(r) {
    return [call(RegExpSource, r), call(RegExpFlags, r)];
  }
  function viewParts(v) {
    const kind = call(TypedArrayToStringTag, v);
    if (kind !== undefined) return [kind, new Uint8ArrayCtor(call(TypedArrayBuffer, v), call(TypedArrayByteOffset, v), call(TypedArrayByteLength, v))];
    return ["DataView", new Uint8ArrayCtor(call(DataViewBuffer, v), call(DataViewByteOffset, v), call(DataViewByteLength, v))];
  }
  function mapEntries(m) {
    const out = [];
    call(MapPrototypeForEach, m, (v, k) => {
      push(out, k);
      push(out, v);
    });
    return out;
  }
  function setValues(s) {
    const out = [];
    call(SetPrototypeForEach, s, (v) => push(out, v));
    return out;
  }
  function functionSource(f) {
    try {
      return call(FunctionPrototypeToString, f);
    } catch {
      return "function";
    }
  }
  function makeMap(flat) {
    const m = new MapCtor();
    for (let i = 0; i < flat.length; i += 2) mapSet(m, flat[i], flat[i + 1]);
    return m;
  }
  function makeSet(items) {
    const s = new SetCtor();
    for (let i = 0; i < items.length; i++) call(SetPrototypeAdd, s, items[i]);
    return s;
  }
  function makeRegExp(source, flags) {
    return new RegExpCtor(source, flags);
  }
  function makeDate(ms) {
    return new Date(ms);
  }
  function makeView(kind, bytes) {
    if (kind === "DataView") return new DataViewCtor(bytes.buffer);
    const Ctor = G[kind] === undefined ? Uint8ArrayCtor : ctors[kind];
    return new Ctor(bytes.buffer);
  }
  const ctors = {
    __proto__: null,
    Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    Float32Array, Float64Array, BigInt64Array, BigUint64Array,
    Float16Array: typeof Float16Array === "function" ? Float16Array : Uint8Array,
  };
  const errorCtors = { __proto__: null, Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };
  // WebIDL's QuotaExceededError: a DOMException with optional figures.
  class QuotaExceededError extends DOMException {
    #quota;
    #requested;
    constructor(message = "", options = undefined) {
      super(message, "QuotaExceededError");
      const quota = options?.quota;
      const requested = options?.requested;
      this.#quota = quota === undefined ? null : quotaNumber(quota, "quota");
      this.#requested = requested === undefined ? null : quotaNumber(requested, "requested");
      if (this.#quota !== null && this.#requested !== null && this.#requested < this.#quota) {
        throw new RangeError("requested must not be less than quota");
      }
    }
    get quota() {
      return this.#quota;
    }
    get requested() {
      return this.#requested;
    }
  }
  function quotaNumber(value, what) {
    const n = +value;
    if (!(n >= 0) || n === Infinity) throw new RangeError(`${what} must be a finite, non-negative number`);
    return n;
  }
  function makeError(name, message, stack) {
    const Ctor = errorCtors[name];
    let e;
    if (Ctor !== undefined) e = new Ctor(message);
    else if (name === "QuotaExceededError") e = new QuotaExceededError(message);
    else if (typeof DOMException === "function" && name.endsWith("Error") && name !== "AggregateError") e = new DOMException(message, name);
    else {
      e = new ErrorCtor(message);
      hidden(e, "name", name);
    }
    if (stack !== undefined) hidden(e, "stack", stack);
    return e;
  }


  globals.console = console;
  globals.QuotaExceededError = QuotaExceededError;

  return {
    __proto__: null,
    ...globals,
    internals: ObjectFreeze({ __proto__: null, op, then, hidden, inspect, setTimeout: globals.setTimeout, reportError: reportErrorImpl }),
    fireTimer,
    cjsEvaluate,
    dateValue,
    regexpParts,
    viewParts,
    mapEntries,
    setValues,
    functionSource,
    makeMap,
    makeSet,
    makeRegExp,
    makeDate,
    makeView,
    makeError,
  };
});
