// WHATWG Streams (https://streams.spec.whatwg.org/), TextEncoderStream and
// TextDecoderStream (Encoding Standard) and CompressionStream /
// DecompressionStream (Compression Standard), loaded the first time a guest
// touches one of their globals.
//
// The abstract operations below follow the Streams Standard step by step and
// carry its names. Their state lives in plain null-prototype records that
// never leave this file; the public objects hold their record in a private
// field, so no reflection, prototype patching or Proxy reaches it. Built-ins
// are captured when the chunk loads, and promises are only ever reacted to
// through the captured `Promise.prototype.then`.
//
// (De)compression is done in Rust (web/compression.rs) with a
// per-stream cap on decompressed bytes.
(function (host, load) {
  "use strict";
  const ObjectDefineProperty = Object.defineProperty;
  const ObjectGetPrototypeOf = Object.getPrototypeOf;
  const ObjectSetPrototypeOf = Object.setPrototypeOf;
  const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const ReflectApply = Reflect.apply;
  const PromiseCtor = Promise;
  const PromisePrototypeThen = Promise.prototype.then;
  const PromiseResolve = Promise.resolve;
  const PromiseReject = Promise.reject;
  const TypeErrorCtor = TypeError;
  const RangeErrorCtor = RangeError;
  const NumberIsNaN = Number.isNaN;
  const MathMin = Math.min;
  const MathTrunc = Math.trunc;
  const SymbolAsyncIterator = Symbol.asyncIterator;
  const SymbolIterator = Symbol.iterator;
  const SymbolToStringTag = Symbol.toStringTag;
  const StringPrototypeSlice = String.prototype.slice;
  const StringPrototypeCharCodeAt = String.prototype.charCodeAt;
  const ArrayBufferCtor = ArrayBuffer;
  const ArrayBufferIsView = ArrayBuffer.isView;
  const ArrayBufferPrototype = ArrayBuffer.prototype;
  const ArrayBufferByteLength = ObjectGetOwnPropertyDescriptor(ArrayBufferPrototype, "byteLength").get;
  const ArrayBufferDetached = ObjectGetOwnPropertyDescriptor(ArrayBufferPrototype, "detached").get;
  const ArrayBufferSlice = ArrayBufferPrototype.slice;
  const ArrayBufferTransfer = ArrayBufferPrototype.transfer;
  const Uint8ArrayCtor = Uint8Array;
  const DataViewCtor = DataView;
  const TypedArrayPrototype = ObjectGetPrototypeOf(Uint8Array.prototype);
  const TypedArrayBuffer = ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, "buffer").get;
  const TypedArrayByteOffset = ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, "byteOffset").get;
  const TypedArrayByteLength = ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, "byteLength").get;
  const TypedArrayLength = ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, "length").get;
  const TypedArrayName = ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, SymbolToStringTag).get;
  const TypedArraySet = TypedArrayPrototype.set;
  const DataViewBuffer = ObjectGetOwnPropertyDescriptor(DataView.prototype, "buffer").get;
  const DataViewByteOffset = ObjectGetOwnPropertyDescriptor(DataView.prototype, "byteOffset").get;
  const DataViewByteLength = ObjectGetOwnPropertyDescriptor(DataView.prototype, "byteLength").get;
  const AsyncIteratorPrototype = ObjectGetPrototypeOf(ObjectGetPrototypeOf(async function* () {}).prototype);
  const typedArrayCtors = {
    __proto__: null,
    Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    Float32Array, Float64Array, BigInt64Array, BigUint64Array,
  };
  if (typeof Float16Array === "function") typedArrayCtors.Float16Array = Float16Array;

  const call = (fn, self, ...args) => ReflectApply(fn, self, args);
  const isObject = (x) => (typeof x === "object" && x !== null) || typeof x === "function";
  const noop = () => {};

  // ---- Promises (the spec's "new promise", "upon fulfillment", ...)
  // A capability that knows whether it is still pending (the writer's
  // "ensure ... promise rejected" steps ask).
  function newPromise() {
    const cap = { __proto__: null, promise: undefined, resolve: undefined, reject: undefined, state: "pending" };
    cap.promise = new PromiseCtor((resolve, reject) => {
      cap.resolve = (value) => {
        if (cap.state !== "pending") return;
        cap.state = "fulfilled";
        resolve(value);
      };
      cap.reject = (reason) => {
        if (cap.state !== "pending") return;
        cap.state = "rejected";
        reject(reason);
      };
    });
    return cap;
  }
  function resolvedCap(value) {
    const cap = newPromise();
    cap.resolve(value);
    return cap;
  }
  function rejectedCap(reason) {
    const cap = newPromise();
    cap.reject(reason);
    setPromiseIsHandledToTrue(cap.promise);
    return cap;
  }
  const promiseResolvedWith = (value) => call(PromiseResolve, PromiseCtor, value);
  const promiseRejectedWith = (reason) => call(PromiseReject, PromiseCtor, reason);
  // Reacting marks the promise handled, as PerformPromiseThen does; the
  // derived promise never rejects unless a reaction throws.
  const uponPromise = (promise, onFulfilled, onRejected) =>
    call(PromisePrototypeThen, promise, onFulfilled, onRejected ?? noop);
  const transformPromiseWith = (promise, onFulfilled, onRejected) =>
    call(PromisePrototypeThen, promise, onFulfilled, onRejected);
  // Reacts with steps that return a promise (or undefined) and adopts that
  // promise through the captured `then`: returning it from a reaction
  // instead would call its own, patchable, `then`.
  function reactAndAdopt(promise, onFulfilled, onRejected) {
    const cap = newPromise();
    const run = (steps) => (value) => {
      let result;
      try {
        result = steps(value);
      } catch (e) {
        cap.reject(e);
        return;
      }
      if (result === undefined) cap.resolve(undefined);
      else settleWith(cap, result);
    };
    call(PromisePrototypeThen, promise, run(onFulfilled), onRejected === undefined ? cap.reject : run(onRejected));
    return cap.promise;
  }
  const setPromiseIsHandledToTrue = (promise) => call(PromisePrototypeThen, promise, undefined, noop);
  const resolvedPromise = promiseResolvedWith(undefined);
  const queueMicrotask = (fn) => call(PromisePrototypeThen, resolvedPromise, fn);
  // Settles `cap` as `promise` settles (never through a patchable `then`).
  const settleWith = (cap, promise) => uponPromise(promise, cap.resolve, cap.reject);
  // Resolves once every promise has fulfilled; rejects with the first rejection.
  function waitForAll(promises) {
    const cap = newPromise();
    let remaining = promises.length;
    if (remaining === 0) cap.resolve(undefined);
    for (let i = 0; i < promises.length; i++) {
      uponPromise(promises[i], () => {
        if (--remaining === 0) cap.resolve(undefined);
      }, cap.reject);
    }
    return cap.promise;
  }

  // ---- WebIDL conversions
  function dictionary(value, what) {
    if (value === undefined || value === null) return null;
    if (!isObject(value)) throw new TypeErrorCtor(`${what} is not an object.`);
    return value;
  }
  const member = (dict, name) => (dict === null ? undefined : dict[name]);
  function callbackMember(dict, name, what) {
    const value = member(dict, name);
    if (value !== undefined && typeof value !== "function") throw new TypeErrorCtor(`${what}.${name} is not a function.`);
    return value;
  }
  function enforceRangeUnsignedLongLong(value, what) {
    const n = +value;
    if (NumberIsNaN(n) || n === Infinity || n === -Infinity) throw new TypeErrorCtor(`${what} is not a finite number.`);
    const x = MathTrunc(n) + 0;
    if (x < 0 || x > 9007199254740991) throw new TypeErrorCtor(`${what} is outside the range of an unsigned long long.`);
    return x;
  }
  // QueuingStrategy: { unrestricted double highWaterMark; QueuingStrategySize size; }
  function queuingStrategy(value, what) {
    const dict = dictionary(value, what);
    const hwm = member(dict, "highWaterMark");
    const size = callbackMember(dict, "size", what);
    return { __proto__: null, highWaterMark: hwm === undefined ? undefined : +hwm, size };
  }
  function invokePromiseCallback(fn, self, args) {
    try {
      return promiseResolvedWith(ReflectApply(fn, self, args));
    } catch (e) {
      return promiseRejectedWith(e);
    }
  }

  // ---- ArrayBuffers and views
  const isDetachedBuffer = (buffer) => call(ArrayBufferDetached, buffer);
  const transferArrayBuffer = (buffer) => call(ArrayBufferTransfer, buffer);
  const arrayBufferByteLength = (buffer) => call(ArrayBufferByteLength, buffer);
  const cloneArrayBuffer = (buffer, offset, length) => call(ArrayBufferSlice, buffer, offset, offset + length);
  function isArrayBuffer(value) {
    try {
      call(ArrayBufferByteLength, value);
      return true;
    } catch {
      return false;
    }
  }
  // The parts of an ArrayBufferView the byte stream algorithms use; throws
  // a TypeError for anything else.
  function viewParts(view, what) {
    if (!ArrayBufferIsView(view)) throw new TypeErrorCtor(`${what} is not an ArrayBufferView.`);
    const name = call(TypedArrayName, view);
    if (name !== undefined) {
      const ctor = typedArrayCtors[name];
      return {
        __proto__: null,
        buffer: call(TypedArrayBuffer, view),
        byteOffset: call(TypedArrayByteOffset, view),
        byteLength: call(TypedArrayByteLength, view),
        length: call(TypedArrayLength, view),
        elementSize: ctor.BYTES_PER_ELEMENT,
        ctor,
        typed: true,
      };
    }
    const buffer = call(DataViewBuffer, view);
    const detached = isDetachedBuffer(buffer);
    const byteLength = detached ? 0 : call(DataViewByteLength, view);
    return {
      __proto__: null,
      buffer,
      byteOffset: detached ? 0 : call(DataViewByteOffset, view),
      byteLength,
      length: byteLength,
      elementSize: 1,
      ctor: DataViewCtor,
      typed: false,
    };
  }
  function copyDataBlockBytes(toBuffer, toIndex, fromBuffer, fromIndex, count) {
    call(TypedArraySet, new Uint8ArrayCtor(toBuffer, toIndex, count), new Uint8ArrayCtor(fromBuffer, fromIndex, count));
  }
  function cloneAsUint8Array(view) {
    const parts = viewParts(view, "chunk");
    return new Uint8ArrayCtor(cloneArrayBuffer(parts.buffer, parts.byteOffset, parts.byteLength));
  }
  // A BufferSource as a Uint8Array over the same bytes (a detached buffer
  // reads as empty, as "get a copy of the bytes" says).
  function bufferSourceBytes(value, what) {
    if (ArrayBufferIsView(value)) {
      const parts = viewParts(value, what);
      if (isDetachedBuffer(parts.buffer)) return new Uint8ArrayCtor(0);
      return new Uint8ArrayCtor(parts.buffer, parts.byteOffset, parts.byteLength);
    }
    if (isArrayBuffer(value)) {
      return isDetachedBuffer(value) ? new Uint8ArrayCtor(0) : new Uint8ArrayCtor(value);
    }
    throw new TypeErrorCtor(`${what} is not of type '(ArrayBuffer or ArrayBufferView)'.`);
  }

  // ---- Lists (the spec's queues and request lists): singly linked, so
  // shifting is O(1) and no Array.prototype method is involved.
  class List {
    constructor() {
      this.head = null;
      this.tail = null;
      this.size = 0;
    }
    push(value) {
      const node = { __proto__: null, value, next: null };
      if (this.tail === null) this.head = node;
      else this.tail.next = node;
      this.tail = node;
      this.size++;
    }
    shift() {
      const node = this.head;
      this.head = node.next;
      if (this.head === null) this.tail = null;
      this.size--;
      return node.value;
    }
    peek() {
      return this.head.value;
    }
    forEach(fn) {
      for (let node = this.head; node !== null; node = node.next) fn(node.value);
    }
  }

  // ---- Queue-with-sizes
  function dequeueValue(container) {
    const pair = container.queue.shift();
    container.queueTotalSize -= pair.size;
    // Rounding errors could make the total slightly negative.
    if (container.queueTotalSize < 0) container.queueTotalSize = 0;
    return pair.value;
  }
  function enqueueValueWithSize(container, value, size) {
    if (typeof size !== "number" || NumberIsNaN(size) || size < 0) throw new RangeErrorCtor("The chunk size must be a non-negative number.");
    if (size === Infinity) throw new RangeErrorCtor("The chunk size must be finite.");
    container.queue.push({ __proto__: null, value, size });
    container.queueTotalSize += size;
  }
  const peekQueueValue = (container) => container.queue.peek().value;
  function resetQueue(container) {
    container.queue = new List();
    container.queueTotalSize = 0;
  }

  function extractHighWaterMark(strategy, defaultHWM) {
    const hwm = strategy.highWaterMark;
    if (hwm === undefined) return defaultHWM;
    if (NumberIsNaN(hwm) || hwm < 0) throw new RangeErrorCtor("The highWaterMark must be a non-negative number.");
    return hwm;
  }
  function extractSizeAlgorithm(strategy) {
    const size = strategy.size;
    if (size === undefined) return () => 1;
    return (chunk) => +call(size, undefined, chunk);
  }

  // ---- The web chunk (AbortSignal, AbortController, TextDecoder), loaded
  // only when a stream needs it.
  let webParts;
  function web() {
    if (webParts === undefined) {
      const w = load("isola:web");
      const getter = (proto, name) => ObjectGetOwnPropertyDescriptor(proto, name).get;
      webParts = {
        __proto__: null,
        AbortController: w.AbortController,
        TextDecoder: w.TextDecoder,
        abort: w.AbortController.prototype.abort,
        signal: getter(w.AbortController.prototype, "signal"),
        aborted: getter(w.AbortSignal.prototype, "aborted"),
        reason: getter(w.AbortSignal.prototype, "reason"),
        addEventListener: w.EventTarget.prototype.addEventListener,
        removeEventListener: w.EventTarget.prototype.removeEventListener,
        decode: w.TextDecoder.prototype.decode,
        encoding: getter(w.TextDecoder.prototype, "encoding"),
        fatal: getter(w.TextDecoder.prototype, "fatal"),
        ignoreBOM: getter(w.TextDecoder.prototype, "ignoreBOM"),
      };
    }
    return webParts;
  }
  function isAbortSignal(value) {
    if (!isObject(value)) return false;
    try {
      call(web().aborted, value);
      return true;
    } catch {
      return false;
    }
  }

  const kCreate = Symbol("create");
  const illegalConstructor = () => new TypeErrorCtor("Illegal constructor");
  const illegalInvocation = () => new TypeErrorCtor("Illegal invocation");
  function brand(getter, self) {
    const record = getter(self);
    if (record === undefined) throw illegalInvocation();
    return record;
  }

  // =====================================================================
  // Readable streams
  // =====================================================================
  let readableRecord;
  class ReadableStream {
    #stream;
    constructor(underlyingSource = undefined, strategy = undefined) {
      if (underlyingSource === kCreate) {
        this.#stream = strategy;
        strategy.pub = this;
        return;
      }
      const strategyDict = queuingStrategy(strategy, "strategy");
      if (underlyingSource === undefined) underlyingSource = null;
      else if (!isObject(underlyingSource)) throw new TypeErrorCtor("underlyingSource is not an object.");
      const source = underlyingSourceDict(underlyingSource);
      const stream = newReadableStreamRecord();
      this.#stream = stream;
      stream.pub = this;
      if (source.type === "bytes") {
        if (strategyDict.size !== undefined) throw new RangeErrorCtor("A byte stream's strategy may not have a size function.");
        const highWaterMark = extractHighWaterMark(strategyDict, 0);
        setUpReadableByteStreamControllerFromUnderlyingSource(stream, underlyingSource, source, highWaterMark);
      } else {
        const sizeAlgorithm = extractSizeAlgorithm(strategyDict);
        const highWaterMark = extractHighWaterMark(strategyDict, 1);
        setUpReadableStreamDefaultControllerFromUnderlyingSource(stream, underlyingSource, source, highWaterMark, sizeAlgorithm);
      }
    }
    static {
      readableRecord = (o) => (isObject(o) && #stream in o ? o.#stream : undefined);
    }
    static from(asyncIterable) {
      return readableStreamFromIterable(asyncIterable).pub;
    }
    get locked() {
      return isReadableStreamLocked(brand(readableRecord, this));
    }
    cancel(reason = undefined) {
      try {
        const stream = brand(readableRecord, this);
        if (isReadableStreamLocked(stream)) return promiseRejectedWith(new TypeErrorCtor("Cannot cancel a locked ReadableStream."));
        return readableStreamCancel(stream, reason);
      } catch (e) {
        return promiseRejectedWith(e);
      }
    }
    getReader(options = undefined) {
      const stream = brand(readableRecord, this);
      const dict = dictionary(options, "options");
      let mode = member(dict, "mode");
      if (mode !== undefined) {
        mode = `${mode}`;
        if (mode !== "byob") throw new TypeErrorCtor(`'${mode}' is not a valid ReadableStreamReaderMode.`);
        return acquireReadableStreamBYOBReader(stream).pub;
      }
      return acquireReadableStreamDefaultReader(stream).pub;
    }
    pipeThrough(transform, options = undefined) {
      const stream = brand(readableRecord, this);
      const pair = dictionary(transform, "transform");
      const readable = readableRecord(member(pair, "readable"));
      if (readable === undefined) throw new TypeErrorCtor("transform.readable is not a ReadableStream.");
      const writable = writableRecord(member(pair, "writable"));
      if (writable === undefined) throw new TypeErrorCtor("transform.writable is not a WritableStream.");
      const opts = streamPipeOptions(options);
      if (isReadableStreamLocked(stream)) throw new TypeErrorCtor("Cannot pipe a locked ReadableStream.");
      if (isWritableStreamLocked(writable)) throw new TypeErrorCtor("Cannot pipe to a locked WritableStream.");
      const promise = readableStreamPipeTo(stream, writable, opts.preventClose, opts.preventAbort, opts.preventCancel, opts.signal);
      setPromiseIsHandledToTrue(promise);
      return readable.pub;
    }
    pipeTo(destination, options = undefined) {
      try {
        const stream = brand(readableRecord, this);
        const dest = writableRecord(destination);
        if (dest === undefined) throw new TypeErrorCtor("The destination is not a WritableStream.");
        const opts = streamPipeOptions(options);
        if (isReadableStreamLocked(stream)) throw new TypeErrorCtor("Cannot pipe a locked ReadableStream.");
        if (isWritableStreamLocked(dest)) throw new TypeErrorCtor("Cannot pipe to a locked WritableStream.");
        return readableStreamPipeTo(stream, dest, opts.preventClose, opts.preventAbort, opts.preventCancel, opts.signal);
      } catch (e) {
        return promiseRejectedWith(e);
      }
    }
    tee() {
      const branches = readableStreamTee(brand(readableRecord, this));
      return [branches[0].pub, branches[1].pub];
    }
    values(options = undefined) {
      const stream = brand(readableRecord, this);
      const dict = dictionary(options, "options");
      const preventCancel = !!member(dict, "preventCancel");
      const reader = acquireReadableStreamDefaultReader(stream);
      return new ReadableStreamAsyncIterator(kCreate, reader, preventCancel);
    }
  }
  ObjectDefineProperty(ReadableStream.prototype, SymbolAsyncIterator, {
    __proto__: null, value: ReadableStream.prototype.values, writable: true, configurable: true,
  });

  // UnderlyingSource, members read in WebIDL's (lexicographic) order.
  function underlyingSourceDict(source) {
    const dict = dictionary(source, "underlyingSource");
    let autoAllocateChunkSize = member(dict, "autoAllocateChunkSize");
    if (autoAllocateChunkSize !== undefined) autoAllocateChunkSize = enforceRangeUnsignedLongLong(autoAllocateChunkSize, "autoAllocateChunkSize");
    const cancel = callbackMember(dict, "cancel", "underlyingSource");
    const pull = callbackMember(dict, "pull", "underlyingSource");
    const start = callbackMember(dict, "start", "underlyingSource");
    let type = member(dict, "type");
    if (type !== undefined) {
      type = `${type}`;
      if (type !== "bytes") throw new TypeErrorCtor(`'${type}' is not a valid ReadableStreamType.`);
    }
    return { __proto__: null, autoAllocateChunkSize, cancel, pull, start, type };
  }

  // StreamPipeOptions, members read in lexicographic order.
  function streamPipeOptions(options) {
    const dict = dictionary(options, "options");
    const preventAbort = !!member(dict, "preventAbort");
    const preventCancel = !!member(dict, "preventCancel");
    const preventClose = !!member(dict, "preventClose");
    const signal = member(dict, "signal");
    if (signal !== undefined && !isAbortSignal(signal)) throw new TypeErrorCtor("options.signal is not an AbortSignal.");
    return { __proto__: null, preventAbort, preventCancel, preventClose, signal };
  }

  function newReadableStreamRecord() {
    return {
      __proto__: null,
      pub: undefined,
      state: "readable",
      reader: undefined,
      storedError: undefined,
      disturbed: false,
      controller: undefined,
    };
  }

  // ---- ReadableStream abstract operations
  function acquireReadableStreamBYOBReader(stream) {
    const reader = newReaderRecord("byob");
    setUpReadableStreamBYOBReader(reader, stream);
    new ReadableStreamBYOBReader(kCreate, reader);
    return reader;
  }
  function acquireReadableStreamDefaultReader(stream) {
    const reader = newReaderRecord("default");
    setUpReadableStreamDefaultReader(reader, stream);
    new ReadableStreamDefaultReader(kCreate, reader);
    return reader;
  }
  function createReadableStream(startAlgorithm, pullAlgorithm, cancelAlgorithm, highWaterMark = 1, sizeAlgorithm = () => 1) {
    const stream = newReadableStreamRecord();
    new ReadableStream(kCreate, stream);
    const controller = newDefaultControllerRecord();
    setUpReadableStreamDefaultController(stream, controller, startAlgorithm, pullAlgorithm, cancelAlgorithm, highWaterMark, sizeAlgorithm);
    return stream;
  }
  function createReadableByteStream(startAlgorithm, pullAlgorithm, cancelAlgorithm) {
    const stream = newReadableStreamRecord();
    new ReadableStream(kCreate, stream);
    const controller = newByteControllerRecord();
    setUpReadableByteStreamController(stream, controller, startAlgorithm, pullAlgorithm, cancelAlgorithm, 0, undefined);
    return stream;
  }
  const isReadableStreamLocked = (stream) => stream.reader !== undefined;

  function getIterator(obj) {
    const method = obj[SymbolAsyncIterator];
    if (method === undefined || method === null) {
      const syncMethod = obj[SymbolIterator];
      if (typeof syncMethod !== "function") throw new TypeErrorCtor("The value is not async iterable.");
      const syncIterator = call(syncMethod, obj);
      if (!isObject(syncIterator)) throw new TypeErrorCtor("The iterator is not an object.");
      // An async generator delegating to the sync iterator is the
      // language's CreateAsyncFromSyncIterator.
      const wrapper = { __proto__: null, [SymbolIterator]: () => syncIterator };
      return (async function* () {
        yield* wrapper;
      })();
    }
    if (typeof method !== "function") throw new TypeErrorCtor("Symbol.asyncIterator is not a function.");
    const iterator = call(method, obj);
    if (!isObject(iterator)) throw new TypeErrorCtor("The async iterator is not an object.");
    return iterator;
  }
  function readableStreamFromIterable(asyncIterable) {
    const iterator = getIterator(asyncIterable);
    const nextMethod = iterator.next;
    let stream;
    const startAlgorithm = () => undefined;
    const pullAlgorithm = () => {
      let nextResult;
      try {
        nextResult = call(nextMethod, iterator);
      } catch (e) {
        return promiseRejectedWith(e);
      }
      return transformPromiseWith(promiseResolvedWith(nextResult), (iterResult) => {
        if (!isObject(iterResult)) throw new TypeErrorCtor("The iterator result is not an object.");
        if (iterResult.done) readableStreamDefaultControllerClose(stream.controller);
        else readableStreamDefaultControllerEnqueue(stream.controller, iterResult.value);
      });
    };
    const cancelAlgorithm = (reason) => {
      let returnResult;
      try {
        const returnMethod = iterator.return;
        if (returnMethod === undefined || returnMethod === null) return promiseResolvedWith(undefined);
        if (typeof returnMethod !== "function") throw new TypeErrorCtor("The iterator's return is not a function.");
        returnResult = call(returnMethod, iterator, reason);
      } catch (e) {
        return promiseRejectedWith(e);
      }
      return transformPromiseWith(promiseResolvedWith(returnResult), (iterResult) => {
        if (!isObject(iterResult)) throw new TypeErrorCtor("The iterator result is not an object.");
      });
    };
    stream = createReadableStream(startAlgorithm, pullAlgorithm, cancelAlgorithm, 0);
    return stream;
  }

  function readableStreamPipeTo(source, dest, preventClose, preventAbort, preventCancel, signal) {
    const reader = acquireReadableStreamDefaultReader(source);
    const writer = acquireWritableStreamDefaultWriter(dest);
    source.disturbed = true;
    let shuttingDown = false;
    const promise = newPromise();
    // The promise of the last write, so shutdown can wait for it.
    let currentWrite = promiseResolvedWith(undefined);
    let abortAlgorithm;

    if (signal !== undefined) {
      abortAlgorithm = () => {
        const error = call(web().reason, signal);
        const actions = [];
        if (!preventAbort) {
          actions[actions.length] = () => (dest.state === "writable" ? writableStreamAbort(dest, error) : promiseResolvedWith(undefined));
        }
        if (!preventCancel) {
          actions[actions.length] = () => (source.state === "readable" ? readableStreamCancel(source, error) : promiseResolvedWith(undefined));
        }
        shutdownWithAnAction(() => {
          const promises = [];
          for (let i = 0; i < actions.length; i++) promises[i] = actions[i]();
          return waitForAll(promises);
        }, true, error);
      };
      if (call(web().aborted, signal)) {
        abortAlgorithm();
        return promise.promise;
      }
      call(web().addEventListener, signal, "abort", abortAlgorithm);
    }

    // Reads a chunk once the destination is ready and starts writing it;
    // resolves with whether the loop is done.
    function pipeStep() {
      if (shuttingDown) return promiseResolvedWith(true);
      return reactAndAdopt(writer.readyPromise.promise, () => {
        const step = newPromise();
        readableStreamDefaultReaderRead(reader, {
          __proto__: null,
          chunkSteps(chunk) {
            currentWrite = transformPromiseWith(writableStreamDefaultWriterWrite(writer, chunk), undefined, noop);
            step.resolve(false);
          },
          closeSteps() {
            step.resolve(true);
          },
          errorSteps: step.reject,
        });
        return step.promise;
      });
    }
    function pipeLoop() {
      const loop = newPromise();
      const next = (done) => {
        if (done) loop.resolve(undefined);
        else uponPromise(pipeStep(), next, loop.reject);
      };
      next(false);
      return loop.promise;
    }

    function isOrBecomesErrored(stream, closedPromise, action) {
      if (stream.state === "errored") action(stream.storedError);
      else uponPromise(closedPromise, undefined, action);
    }
    function isOrBecomesClosed(stream, closedPromise, action) {
      if (stream.state === "closed") action();
      else uponPromise(closedPromise, action);
    }
    function waitForWritesToFinish() {
      const oldCurrentWrite = currentWrite;
      return reactAndAdopt(currentWrite, () => (oldCurrentWrite !== currentWrite ? waitForWritesToFinish() : undefined));
    }
    function shutdownWithAnAction(action, originalIsError, originalError) {
      if (shuttingDown) return;
      shuttingDown = true;
      const doTheRest = () => {
        uponPromise(action(), () => finalize(originalIsError, originalError), (newError) => finalize(true, newError));
      };
      if (dest.state === "writable" && !writableStreamCloseQueuedOrInFlight(dest)) uponPromise(waitForWritesToFinish(), doTheRest);
      else doTheRest();
    }
    function shutdown(isError, error) {
      if (shuttingDown) return;
      shuttingDown = true;
      if (dest.state === "writable" && !writableStreamCloseQueuedOrInFlight(dest)) {
        uponPromise(waitForWritesToFinish(), () => finalize(isError, error));
      } else {
        finalize(isError, error);
      }
    }
    function finalize(isError, error) {
      writableStreamDefaultWriterRelease(writer);
      readableStreamDefaultReaderRelease(reader);
      if (signal !== undefined) call(web().removeEventListener, signal, "abort", abortAlgorithm);
      if (isError) promise.reject(error);
      else promise.resolve(undefined);
    }

    // Errors must be propagated forward (source to destination) ...
    isOrBecomesErrored(source, reader.closedPromise.promise, (storedError) => {
      if (!preventAbort) shutdownWithAnAction(() => writableStreamAbort(dest, storedError), true, storedError);
      else shutdown(true, storedError);
    });
    // ... and backward;
    isOrBecomesErrored(dest, writer.closedPromise.promise, (storedError) => {
      if (!preventCancel) shutdownWithAnAction(() => readableStreamCancel(source, storedError), true, storedError);
      else shutdown(true, storedError);
    });
    // closing must be propagated forward ...
    isOrBecomesClosed(source, reader.closedPromise.promise, () => {
      if (!preventClose) shutdownWithAnAction(() => writableStreamDefaultWriterCloseWithErrorPropagation(writer));
      else shutdown();
    });
    // ... and backward.
    if (writableStreamCloseQueuedOrInFlight(dest) || dest.state === "closed") {
      const destClosed = new TypeErrorCtor("The destination WritableStream closed before all data could be piped to it.");
      if (!preventCancel) shutdownWithAnAction(() => readableStreamCancel(source, destClosed), true, destClosed);
      else shutdown(true, destClosed);
    }
    setPromiseIsHandledToTrue(pipeLoop());
    return promise.promise;
  }

  // The spec's `cloneForBranch2` is only ever true for other specifications
  // (structured cloning of chunks), so it is left out.
  function readableStreamTee(stream) {
    if (stream.controller.kind === "byte") return readableByteStreamTee(stream);
    return readableStreamDefaultTee(stream);
  }

  function readableStreamDefaultTee(stream) {
    const reader = acquireReadableStreamDefaultReader(stream);
    let reading = false;
    let readAgain = false;
    let canceled1 = false;
    let canceled2 = false;
    let reason1;
    let reason2;
    let branch1;
    let branch2;
    const cancelPromise = newPromise();
    const pullAlgorithm = () => {
      if (reading) {
        readAgain = true;
        return promiseResolvedWith(undefined);
      }
      reading = true;
      readableStreamDefaultReaderRead(reader, {
        __proto__: null,
        chunkSteps(chunk) {
          // A microtask later, so that a synchronous error from the source
          // is seen before the chunk is enqueued.
          queueMicrotask(() => {
            readAgain = false;
            const chunk1 = chunk;
            const chunk2 = chunk;
            if (!canceled1) readableStreamDefaultControllerEnqueue(branch1.controller, chunk1);
            if (!canceled2) readableStreamDefaultControllerEnqueue(branch2.controller, chunk2);
            reading = false;
            if (readAgain) pullAlgorithm();
          });
        },
        closeSteps() {
          reading = false;
          if (!canceled1) readableStreamDefaultControllerClose(branch1.controller);
          if (!canceled2) readableStreamDefaultControllerClose(branch2.controller);
          if (!canceled1 || !canceled2) cancelPromise.resolve(undefined);
        },
        errorSteps() {
          reading = false;
        },
      });
      return promiseResolvedWith(undefined);
    };
    const cancel1Algorithm = (reason) => {
      canceled1 = true;
      reason1 = reason;
      if (canceled2) settleWith(cancelPromise, readableStreamCancel(stream, [reason1, reason2]));
      return cancelPromise.promise;
    };
    const cancel2Algorithm = (reason) => {
      canceled2 = true;
      reason2 = reason;
      if (canceled1) settleWith(cancelPromise, readableStreamCancel(stream, [reason1, reason2]));
      return cancelPromise.promise;
    };
    const startAlgorithm = () => undefined;
    branch1 = createReadableStream(startAlgorithm, pullAlgorithm, cancel1Algorithm);
    branch2 = createReadableStream(startAlgorithm, pullAlgorithm, cancel2Algorithm);
    uponPromise(reader.closedPromise.promise, undefined, (r) => {
      readableStreamDefaultControllerError(branch1.controller, r);
      readableStreamDefaultControllerError(branch2.controller, r);
      if (!canceled1 || !canceled2) cancelPromise.resolve(undefined);
    });
    return [branch1, branch2];
  }

  function readableByteStreamTee(stream) {
    let reader = acquireReadableStreamDefaultReader(stream);
    let reading = false;
    let readAgainForBranch1 = false;
    let readAgainForBranch2 = false;
    let canceled1 = false;
    let canceled2 = false;
    let reason1;
    let reason2;
    let branch1;
    let branch2;
    const cancelPromise = newPromise();
    const forwardReaderError = (thisReader) => {
      uponPromise(thisReader.closedPromise.promise, undefined, (r) => {
        if (thisReader !== reader) return;
        readableByteStreamControllerError(branch1.controller, r);
        readableByteStreamControllerError(branch2.controller, r);
        if (!canceled1 || !canceled2) cancelPromise.resolve(undefined);
      });
    };
    const pullWithDefaultReader = () => {
      if (reader.kind === "byob") {
        readableStreamBYOBReaderRelease(reader);
        reader = acquireReadableStreamDefaultReader(stream);
        forwardReaderError(reader);
      }
      readableStreamDefaultReaderRead(reader, {
        __proto__: null,
        chunkSteps(chunk) {
          queueMicrotask(() => {
            readAgainForBranch1 = false;
            readAgainForBranch2 = false;
            const chunk1 = chunk;
            let chunk2 = chunk;
            if (!canceled1 && !canceled2) {
              try {
                chunk2 = cloneAsUint8Array(chunk);
              } catch (e) {
                readableByteStreamControllerError(branch1.controller, e);
                readableByteStreamControllerError(branch2.controller, e);
                settleWith(cancelPromise, readableStreamCancel(stream, e));
                return;
              }
            }
            if (!canceled1) readableByteStreamControllerEnqueue(branch1.controller, chunk1);
            if (!canceled2) readableByteStreamControllerEnqueue(branch2.controller, chunk2);
            reading = false;
            if (readAgainForBranch1) pull1Algorithm();
            else if (readAgainForBranch2) pull2Algorithm();
          });
        },
        closeSteps() {
          reading = false;
          if (!canceled1) readableByteStreamControllerClose(branch1.controller);
          if (!canceled2) readableByteStreamControllerClose(branch2.controller);
          if (branch1.controller.pendingPullIntos.size > 0) readableByteStreamControllerRespond(branch1.controller, 0);
          if (branch2.controller.pendingPullIntos.size > 0) readableByteStreamControllerRespond(branch2.controller, 0);
          if (!canceled1 || !canceled2) cancelPromise.resolve(undefined);
        },
        errorSteps() {
          reading = false;
        },
      });
    };
    const pullWithBYOBReader = (view, forBranch2) => {
      if (reader.kind === "default") {
        readableStreamDefaultReaderRelease(reader);
        reader = acquireReadableStreamBYOBReader(stream);
        forwardReaderError(reader);
      }
      const byobBranch = forBranch2 ? branch2 : branch1;
      const otherBranch = forBranch2 ? branch1 : branch2;
      readableStreamBYOBReaderRead(reader, view, 1, {
        __proto__: null,
        chunkSteps(chunk) {
          queueMicrotask(() => {
            readAgainForBranch1 = false;
            readAgainForBranch2 = false;
            const byobCanceled = forBranch2 ? canceled2 : canceled1;
            const otherCanceled = forBranch2 ? canceled1 : canceled2;
            if (!otherCanceled) {
              let clonedChunk;
              try {
                clonedChunk = cloneAsUint8Array(chunk);
              } catch (e) {
                readableByteStreamControllerError(byobBranch.controller, e);
                readableByteStreamControllerError(otherBranch.controller, e);
                settleWith(cancelPromise, readableStreamCancel(stream, e));
                return;
              }
              if (!byobCanceled) readableByteStreamControllerRespondWithNewView(byobBranch.controller, chunk);
              readableByteStreamControllerEnqueue(otherBranch.controller, clonedChunk);
            } else if (!byobCanceled) {
              readableByteStreamControllerRespondWithNewView(byobBranch.controller, chunk);
            }
            reading = false;
            if (readAgainForBranch1) pull1Algorithm();
            else if (readAgainForBranch2) pull2Algorithm();
          });
        },
        closeSteps(chunk) {
          reading = false;
          const byobCanceled = forBranch2 ? canceled2 : canceled1;
          const otherCanceled = forBranch2 ? canceled1 : canceled2;
          if (!byobCanceled) readableByteStreamControllerClose(byobBranch.controller);
          if (!otherCanceled) readableByteStreamControllerClose(otherBranch.controller);
          if (chunk !== undefined) {
            if (!byobCanceled) readableByteStreamControllerRespondWithNewView(byobBranch.controller, chunk);
            if (!otherCanceled && otherBranch.controller.pendingPullIntos.size > 0) {
              readableByteStreamControllerRespond(otherBranch.controller, 0);
            }
          }
          if (!byobCanceled || !otherCanceled) cancelPromise.resolve(undefined);
        },
        errorSteps() {
          reading = false;
        },
      });
    };
    const pull1Algorithm = () => {
      if (reading) {
        readAgainForBranch1 = true;
        return promiseResolvedWith(undefined);
      }
      reading = true;
      const byobRequest = readableByteStreamControllerGetBYOBRequest(branch1.controller);
      if (byobRequest === null) pullWithDefaultReader();
      else pullWithBYOBReader(byobRequestRecord(byobRequest).view, false);
      return promiseResolvedWith(undefined);
    };
    const pull2Algorithm = () => {
      if (reading) {
        readAgainForBranch2 = true;
        return promiseResolvedWith(undefined);
      }
      reading = true;
      const byobRequest = readableByteStreamControllerGetBYOBRequest(branch2.controller);
      if (byobRequest === null) pullWithDefaultReader();
      else pullWithBYOBReader(byobRequestRecord(byobRequest).view, true);
      return promiseResolvedWith(undefined);
    };
    const cancel1Algorithm = (reason) => {
      canceled1 = true;
      reason1 = reason;
      if (canceled2) settleWith(cancelPromise, readableStreamCancel(stream, [reason1, reason2]));
      return cancelPromise.promise;
    };
    const cancel2Algorithm = (reason) => {
      canceled2 = true;
      reason2 = reason;
      if (canceled1) settleWith(cancelPromise, readableStreamCancel(stream, [reason1, reason2]));
      return cancelPromise.promise;
    };
    const startAlgorithm = () => undefined;
    branch1 = createReadableByteStream(startAlgorithm, pull1Algorithm, cancel1Algorithm);
    branch2 = createReadableByteStream(startAlgorithm, pull2Algorithm, cancel2Algorithm);
    forwardReaderError(reader);
    return [branch1, branch2];
  }

  // ---- Interfacing with controllers
  function readableStreamAddReadIntoRequest(stream, readIntoRequest) {
    stream.reader.readIntoRequests.push(readIntoRequest);
  }
  function readableStreamAddReadRequest(stream, readRequest) {
    stream.reader.readRequests.push(readRequest);
  }
  function readableStreamCancel(stream, reason) {
    stream.disturbed = true;
    if (stream.state === "closed") return promiseResolvedWith(undefined);
    if (stream.state === "errored") return promiseRejectedWith(stream.storedError);
    readableStreamClose(stream);
    const reader = stream.reader;
    if (reader !== undefined && reader.kind === "byob") {
      const readIntoRequests = reader.readIntoRequests;
      reader.readIntoRequests = new List();
      readIntoRequests.forEach((request) => request.closeSteps(undefined));
    }
    const sourceCancelPromise = controllerCancelSteps(stream.controller, reason);
    return transformPromiseWith(sourceCancelPromise, () => undefined);
  }
  function readableStreamClose(stream) {
    stream.state = "closed";
    const reader = stream.reader;
    if (reader === undefined) return;
    reader.closedPromise.resolve(undefined);
    if (reader.kind === "default") {
      const readRequests = reader.readRequests;
      reader.readRequests = new List();
      readRequests.forEach((request) => request.closeSteps());
    }
  }
  function readableStreamError(stream, e) {
    stream.state = "errored";
    stream.storedError = e;
    const reader = stream.reader;
    if (reader === undefined) return;
    reader.closedPromise.reject(e);
    setPromiseIsHandledToTrue(reader.closedPromise.promise);
    if (reader.kind === "default") readableStreamDefaultReaderErrorReadRequests(reader, e);
    else readableStreamBYOBReaderErrorReadIntoRequests(reader, e);
  }
  function readableStreamFulfillReadIntoRequest(stream, chunk, done) {
    const readIntoRequest = stream.reader.readIntoRequests.shift();
    if (done) readIntoRequest.closeSteps(chunk);
    else readIntoRequest.chunkSteps(chunk);
  }
  function readableStreamFulfillReadRequest(stream, chunk, done) {
    const readRequest = stream.reader.readRequests.shift();
    if (done) readRequest.closeSteps();
    else readRequest.chunkSteps(chunk);
  }
  const readableStreamGetNumReadIntoRequests = (stream) => stream.reader.readIntoRequests.size;
  const readableStreamGetNumReadRequests = (stream) => stream.reader.readRequests.size;
  const readableStreamHasBYOBReader = (stream) => stream.reader !== undefined && stream.reader.kind === "byob";
  const readableStreamHasDefaultReader = (stream) => stream.reader !== undefined && stream.reader.kind === "default";

  // The controllers' [[CancelSteps]], [[PullSteps]] and [[ReleaseSteps]].
  function controllerCancelSteps(controller, reason) {
    if (controller.kind === "byte") {
      readableByteStreamControllerClearPendingPullIntos(controller);
      resetQueue(controller);
      const result = controller.cancelAlgorithm(reason);
      readableByteStreamControllerClearAlgorithms(controller);
      return result;
    }
    resetQueue(controller);
    const result = controller.cancelAlgorithm(reason);
    readableStreamDefaultControllerClearAlgorithms(controller);
    return result;
  }
  function controllerPullSteps(controller, readRequest) {
    const stream = controller.stream;
    if (controller.kind === "byte") {
      if (controller.queueTotalSize > 0) {
        readableByteStreamControllerFillReadRequestFromQueue(controller, readRequest);
        return;
      }
      const autoAllocateChunkSize = controller.autoAllocateChunkSize;
      if (autoAllocateChunkSize !== undefined) {
        let buffer;
        try {
          buffer = new ArrayBufferCtor(autoAllocateChunkSize);
        } catch (e) {
          readRequest.errorSteps(e);
          return;
        }
        controller.pendingPullIntos.push({
          __proto__: null,
          buffer,
          bufferByteLength: autoAllocateChunkSize,
          byteOffset: 0,
          byteLength: autoAllocateChunkSize,
          bytesFilled: 0,
          minimumFill: 1,
          elementSize: 1,
          viewConstructor: Uint8ArrayCtor,
          readerType: "default",
        });
      }
      readableStreamAddReadRequest(stream, readRequest);
      readableByteStreamControllerCallPullIfNeeded(controller);
      return;
    }
    if (controller.queue.size > 0) {
      const chunk = dequeueValue(controller);
      if (controller.closeRequested && controller.queue.size === 0) {
        readableStreamDefaultControllerClearAlgorithms(controller);
        readableStreamClose(stream);
      } else {
        readableStreamDefaultControllerCallPullIfNeeded(controller);
      }
      readRequest.chunkSteps(chunk);
    } else {
      readableStreamAddReadRequest(stream, readRequest);
      readableStreamDefaultControllerCallPullIfNeeded(controller);
    }
  }
  function controllerReleaseSteps(controller) {
    if (controller.kind !== "byte" || controller.pendingPullIntos.size === 0) return;
    const firstPendingPullInto = controller.pendingPullIntos.peek();
    firstPendingPullInto.readerType = "none";
    controller.pendingPullIntos = new List();
    controller.pendingPullIntos.push(firstPendingPullInto);
  }

  // =====================================================================
  // Readers
  // =====================================================================
  function newReaderRecord(kind) {
    return {
      __proto__: null,
      pub: undefined,
      kind,
      stream: undefined,
      closedPromise: undefined,
      readRequests: undefined,
      readIntoRequests: undefined,
    };
  }

  let defaultReaderRecord;
  class ReadableStreamDefaultReader {
    #reader;
    constructor(stream, record = undefined) {
      if (stream === kCreate) {
        this.#reader = record;
        record.pub = this;
        return;
      }
      const streamRecord = readableRecord(stream);
      if (streamRecord === undefined) throw new TypeErrorCtor("The argument is not a ReadableStream.");
      const reader = newReaderRecord("default");
      setUpReadableStreamDefaultReader(reader, streamRecord);
      this.#reader = reader;
      reader.pub = this;
    }
    static {
      defaultReaderRecord = (o) => (isObject(o) && #reader in o ? o.#reader : undefined);
    }
    get closed() {
      try {
        return brand(defaultReaderRecord, this).closedPromise.promise;
      } catch (e) {
        return promiseRejectedWith(e);
      }
    }
    cancel(reason = undefined) {
      try {
        const reader = brand(defaultReaderRecord, this);
        if (reader.stream === undefined) throw new TypeErrorCtor("The reader has been released.");
        return readableStreamReaderGenericCancel(reader, reason);
      } catch (e) {
        return promiseRejectedWith(e);
      }
    }
    read() {
      try {
        const reader = brand(defaultReaderRecord, this);
        if (reader.stream === undefined) throw new TypeErrorCtor("The reader has been released.");
        const promise = newPromise();
        readableStreamDefaultReaderRead(reader, {
          __proto__: null,
          chunkSteps: (chunk) => promise.resolve({ value: chunk, done: false }),
          closeSteps: () => promise.resolve({ value: undefined, done: true }),
          errorSteps: promise.reject,
        });
        return promise.promise;
      } catch (e) {
        return promiseRejectedWith(e);
      }
    }
    releaseLock() {
      const reader = brand(defaultReaderRecord, this);
      if (reader.stream === undefined) return;
      readableStreamDefaultReaderRelease(reader);
    }
  }

  let byobReaderRecord;
  class ReadableStreamBYOBReader {
    #reader;
    constructor(stream, record = undefined) {
      if (stream === kCreate) {
        this.#reader = record;
        record.pub = this;
        return;
      }
      const streamRecord = readableRecord(stream);
      if (streamRecord === undefined) throw new TypeErrorCtor("The argument is not a ReadableStream.");
      const reader = newReaderRecord("byob");
      setUpReadableStreamBYOBReader(reader, streamRecord);
      this.#reader = reader;
      reader.pub = this;
    }
    static {
      byobReaderRecord = (o) => (isObject(o) && #reader in o ? o.#reader : undefined);
    }
    get closed() {
      try {
        return brand(byobReaderRecord, this).closedPromise.promise;
      } catch (e) {
        return promiseRejectedWith(e);
      }
    }
    cancel(reason = undefined) {
      try {
        const reader = brand(byobReaderRecord, this);
        if (reader.stream === undefined) throw new TypeErrorCtor("The reader has been released.");
        return readableStreamReaderGenericCancel(reader, reason);
      } catch (e) {
        return promiseRejectedWith(e);
      }
    }
    read(view, options = undefined) {
      try {
        const reader = brand(byobReaderRecord, this);
        const parts = viewParts(view, "view");
        const dict = dictionary(options, "options");
        let min = member(dict, "min");
        min = min === undefined ? 1 : enforceRangeUnsignedLongLong(min, "options.min");
        if (parts.byteLength === 0) throw new TypeErrorCtor("The view must have a non-zero byteLength.");
        if (isDetachedBuffer(parts.buffer)) throw new TypeErrorCtor("The view's buffer is detached.");
        if (arrayBufferByteLength(parts.buffer) === 0) throw new TypeErrorCtor("The view's buffer must have a non-zero byteLength.");
        if (min === 0) throw new TypeErrorCtor("options.min must be greater than 0.");
        if (min > parts.length) throw new RangeErrorCtor("options.min must not exceed the view's length.");
        if (reader.stream === undefined) throw new TypeErrorCtor("The reader has been released.");
        const promise = newPromise();
        readableStreamBYOBReaderRead(reader, view, min, {
          __proto__: null,
          chunkSteps: (chunk) => promise.resolve({ value: chunk, done: false }),
          closeSteps: (chunk) => promise.resolve({ value: chunk, done: true }),
          errorSteps: promise.reject,
        });
        return promise.promise;
      } catch (e) {
        return promiseRejectedWith(e);
      }
    }
    releaseLock() {
      const reader = brand(byobReaderRecord, this);
      if (reader.stream === undefined) return;
      readableStreamBYOBReaderRelease(reader);
    }
  }

  // ---- Reader abstract operations
  function readableStreamReaderGenericCancel(reader, reason) {
    return readableStreamCancel(reader.stream, reason);
  }
  function readableStreamReaderGenericInitialize(reader, stream) {
    reader.stream = stream;
    stream.reader = reader;
    if (stream.state === "readable") reader.closedPromise = newPromise();
    else if (stream.state === "closed") reader.closedPromise = resolvedCap(undefined);
    else reader.closedPromise = rejectedCap(stream.storedError);
  }
  function readableStreamReaderGenericRelease(reader) {
    const stream = reader.stream;
    const error = new TypeErrorCtor("The reader's lock was released.");
    if (stream.state === "readable") reader.closedPromise.reject(error);
    else reader.closedPromise = rejectedCap(error);
    setPromiseIsHandledToTrue(reader.closedPromise.promise);
    controllerReleaseSteps(stream.controller);
    stream.reader = undefined;
    reader.stream = undefined;
  }
  function readableStreamBYOBReaderErrorReadIntoRequests(reader, e) {
    const readIntoRequests = reader.readIntoRequests;
    reader.readIntoRequests = new List();
    readIntoRequests.forEach((request) => request.errorSteps(e));
  }
  function readableStreamBYOBReaderRead(reader, view, min, readIntoRequest) {
    const stream = reader.stream;
    stream.disturbed = true;
    if (stream.state === "errored") readIntoRequest.errorSteps(stream.storedError);
    else readableByteStreamControllerPullInto(stream.controller, view, min, readIntoRequest);
  }
  function readableStreamBYOBReaderRelease(reader) {
    readableStreamReaderGenericRelease(reader);
    readableStreamBYOBReaderErrorReadIntoRequests(reader, new TypeErrorCtor("The reader's lock was released."));
  }
  function readableStreamDefaultReaderErrorReadRequests(reader, e) {
    const readRequests = reader.readRequests;
    reader.readRequests = new List();
    readRequests.forEach((request) => request.errorSteps(e));
  }
  function readableStreamDefaultReaderRead(reader, readRequest) {
    const stream = reader.stream;
    stream.disturbed = true;
    if (stream.state === "closed") readRequest.closeSteps();
    else if (stream.state === "errored") readRequest.errorSteps(stream.storedError);
    else controllerPullSteps(stream.controller, readRequest);
  }
  function readableStreamDefaultReaderRelease(reader) {
    readableStreamReaderGenericRelease(reader);
    readableStreamDefaultReaderErrorReadRequests(reader, new TypeErrorCtor("The reader's lock was released."));
  }
  function setUpReadableStreamBYOBReader(reader, stream) {
    if (isReadableStreamLocked(stream)) throw new TypeErrorCtor("The ReadableStream is locked.");
    if (stream.controller.kind !== "byte") throw new TypeErrorCtor("A BYOB reader needs a byte stream (type: \"bytes\").");
    readableStreamReaderGenericInitialize(reader, stream);
    reader.readIntoRequests = new List();
  }
  function setUpReadableStreamDefaultReader(reader, stream) {
    if (isReadableStreamLocked(stream)) throw new TypeErrorCtor("The ReadableStream is locked.");
    readableStreamReaderGenericInitialize(reader, stream);
    reader.readRequests = new List();
  }

  // ---- Async iteration (WebIDL async iterable with ReadableStream's steps)
  const kEndOfIteration = Symbol("end of iteration");
  class ReadableStreamAsyncIterator {
    #it;
    constructor(token, reader, preventCancel) {
      if (token !== kCreate) throw illegalConstructor();
      this.#it = { __proto__: null, reader, preventCancel, ongoingPromise: null, isFinished: false };
    }
    next() {
      let it;
      try {
        it = this.#it;
      } catch {
        return promiseRejectedWith(illegalInvocation());
      }
      const nextSteps = () => {
        if (it.isFinished) return promiseResolvedWith({ value: undefined, done: true });
        return transformPromiseWith(asyncIteratorGetNext(it), (next) => {
          it.ongoingPromise = null;
          if (next === kEndOfIteration) {
            it.isFinished = true;
            return { value: undefined, done: true };
          }
          return { value: next, done: false };
        }, (reason) => {
          it.ongoingPromise = null;
          it.isFinished = true;
          throw reason;
        });
      };
      it.ongoingPromise = it.ongoingPromise === null ? nextSteps() : reactAndAdopt(it.ongoingPromise, nextSteps, nextSteps);
      return it.ongoingPromise;
    }
    return(value = undefined) {
      let it;
      try {
        it = this.#it;
      } catch {
        return promiseRejectedWith(illegalInvocation());
      }
      const returnSteps = () => {
        if (it.isFinished) return promiseResolvedWith({ value, done: true });
        it.isFinished = true;
        return asyncIteratorReturn(it, value);
      };
      it.ongoingPromise = it.ongoingPromise === null ? returnSteps() : reactAndAdopt(it.ongoingPromise, returnSteps, returnSteps);
      return transformPromiseWith(it.ongoingPromise, () => ({ value, done: true }));
    }
  }
  const ReadableStreamAsyncIteratorPrototype = ReadableStreamAsyncIterator.prototype;
  delete ReadableStreamAsyncIteratorPrototype.constructor;
  ObjectSetPrototypeOf(ReadableStreamAsyncIteratorPrototype, AsyncIteratorPrototype);
  ObjectDefineProperty(ReadableStreamAsyncIteratorPrototype, SymbolToStringTag, {
    __proto__: null, value: "ReadableStream AsyncIterator", configurable: true,
  });
  function asyncIteratorGetNext(it) {
    const reader = it.reader;
    const promise = newPromise();
    readableStreamDefaultReaderRead(reader, {
      __proto__: null,
      chunkSteps: promise.resolve,
      closeSteps() {
        readableStreamDefaultReaderRelease(reader);
        promise.resolve(kEndOfIteration);
      },
      errorSteps(e) {
        readableStreamDefaultReaderRelease(reader);
        promise.reject(e);
      },
    });
    return promise.promise;
  }
  function asyncIteratorReturn(it, arg) {
    const reader = it.reader;
    if (!it.preventCancel) {
      const result = readableStreamReaderGenericCancel(reader, arg);
      readableStreamDefaultReaderRelease(reader);
      return result;
    }
    readableStreamDefaultReaderRelease(reader);
    return promiseResolvedWith(undefined);
  }

  // =====================================================================
  // ReadableStreamDefaultController
  // =====================================================================
  function newDefaultControllerRecord() {
    const controller = {
      __proto__: null,
      pub: undefined,
      kind: "default",
      stream: undefined,
      queue: undefined,
      queueTotalSize: 0,
      started: false,
      closeRequested: false,
      pullAgain: false,
      pulling: false,
      strategySizeAlgorithm: undefined,
      strategyHWM: 0,
      pullAlgorithm: undefined,
      cancelAlgorithm: undefined,
    };
    new ReadableStreamDefaultController(kCreate, controller);
    return controller;
  }

  let defaultControllerRecord;
  class ReadableStreamDefaultController {
    #controller;
    constructor(token = undefined, record = undefined) {
      if (token !== kCreate) throw illegalConstructor();
      this.#controller = record;
      record.pub = this;
    }
    static {
      defaultControllerRecord = (o) => (isObject(o) && #controller in o ? o.#controller : undefined);
    }
    get desiredSize() {
      return readableStreamDefaultControllerGetDesiredSize(brand(defaultControllerRecord, this));
    }
    close() {
      const controller = brand(defaultControllerRecord, this);
      if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) throw new TypeErrorCtor("The stream is not in a state that permits close.");
      readableStreamDefaultControllerClose(controller);
    }
    enqueue(chunk = undefined) {
      const controller = brand(defaultControllerRecord, this);
      if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) throw new TypeErrorCtor("The stream is not in a state that permits enqueue.");
      readableStreamDefaultControllerEnqueue(controller, chunk);
    }
    error(e = undefined) {
      readableStreamDefaultControllerError(brand(defaultControllerRecord, this), e);
    }
  }

  function readableStreamDefaultControllerCallPullIfNeeded(controller) {
    if (!readableStreamDefaultControllerShouldCallPull(controller)) return;
    if (controller.pulling) {
      controller.pullAgain = true;
      return;
    }
    controller.pulling = true;
    uponPromise(controller.pullAlgorithm(), () => {
      controller.pulling = false;
      if (controller.pullAgain) {
        controller.pullAgain = false;
        readableStreamDefaultControllerCallPullIfNeeded(controller);
      }
    }, (e) => readableStreamDefaultControllerError(controller, e));
  }
  function readableStreamDefaultControllerShouldCallPull(controller) {
    const stream = controller.stream;
    if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) return false;
    if (!controller.started) return false;
    if (isReadableStreamLocked(stream) && readableStreamGetNumReadRequests(stream) > 0) return true;
    return readableStreamDefaultControllerGetDesiredSize(controller) > 0;
  }
  function readableStreamDefaultControllerClearAlgorithms(controller) {
    controller.pullAlgorithm = undefined;
    controller.cancelAlgorithm = undefined;
    controller.strategySizeAlgorithm = undefined;
  }
  function readableStreamDefaultControllerClose(controller) {
    if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) return;
    controller.closeRequested = true;
    if (controller.queue.size === 0) {
      readableStreamDefaultControllerClearAlgorithms(controller);
      readableStreamClose(controller.stream);
    }
  }
  function readableStreamDefaultControllerEnqueue(controller, chunk) {
    if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) return;
    const stream = controller.stream;
    if (isReadableStreamLocked(stream) && readableStreamGetNumReadRequests(stream) > 0) {
      readableStreamFulfillReadRequest(stream, chunk, false);
    } else {
      let chunkSize;
      try {
        chunkSize = controller.strategySizeAlgorithm(chunk);
      } catch (e) {
        readableStreamDefaultControllerError(controller, e);
        throw e;
      }
      try {
        enqueueValueWithSize(controller, chunk, chunkSize);
      } catch (e) {
        readableStreamDefaultControllerError(controller, e);
        throw e;
      }
    }
    readableStreamDefaultControllerCallPullIfNeeded(controller);
  }
  function readableStreamDefaultControllerError(controller, e) {
    const stream = controller.stream;
    if (stream.state !== "readable") return;
    resetQueue(controller);
    readableStreamDefaultControllerClearAlgorithms(controller);
    readableStreamError(stream, e);
  }
  function readableStreamDefaultControllerGetDesiredSize(controller) {
    const state = controller.stream.state;
    if (state === "errored") return null;
    if (state === "closed") return 0;
    return controller.strategyHWM - controller.queueTotalSize;
  }
  const readableStreamDefaultControllerHasBackpressure = (controller) => !readableStreamDefaultControllerShouldCallPull(controller);
  const readableStreamDefaultControllerCanCloseOrEnqueue = (controller) =>
    !controller.closeRequested && controller.stream.state === "readable";

  function setUpReadableStreamDefaultController(stream, controller, startAlgorithm, pullAlgorithm, cancelAlgorithm, highWaterMark, sizeAlgorithm) {
    controller.stream = stream;
    resetQueue(controller);
    controller.started = false;
    controller.closeRequested = false;
    controller.pullAgain = false;
    controller.pulling = false;
    controller.strategySizeAlgorithm = sizeAlgorithm;
    controller.strategyHWM = highWaterMark;
    controller.pullAlgorithm = pullAlgorithm;
    controller.cancelAlgorithm = cancelAlgorithm;
    stream.controller = controller;
    const startResult = startAlgorithm();
    uponPromise(promiseResolvedWith(startResult), () => {
      controller.started = true;
      readableStreamDefaultControllerCallPullIfNeeded(controller);
    }, (r) => readableStreamDefaultControllerError(controller, r));
  }
  function setUpReadableStreamDefaultControllerFromUnderlyingSource(stream, underlyingSource, source, highWaterMark, sizeAlgorithm) {
    const controller = newDefaultControllerRecord();
    const { start, pull, cancel } = source;
    const startAlgorithm = start === undefined ? () => undefined : () => call(start, underlyingSource, controller.pub);
    const pullAlgorithm = pull === undefined ? () => promiseResolvedWith(undefined) : () => invokePromiseCallback(pull, underlyingSource, [controller.pub]);
    const cancelAlgorithm = cancel === undefined ? () => promiseResolvedWith(undefined) : (reason) => invokePromiseCallback(cancel, underlyingSource, [reason]);
    setUpReadableStreamDefaultController(stream, controller, startAlgorithm, pullAlgorithm, cancelAlgorithm, highWaterMark, sizeAlgorithm);
  }

  // =====================================================================
  // ReadableByteStreamController and ReadableStreamBYOBRequest
  // =====================================================================
  function newByteControllerRecord() {
    const controller = {
      __proto__: null,
      pub: undefined,
      kind: "byte",
      stream: undefined,
      queue: undefined,
      queueTotalSize: 0,
      started: false,
      closeRequested: false,
      pullAgain: false,
      pulling: false,
      byobRequest: null,
      strategyHWM: 0,
      pullAlgorithm: undefined,
      cancelAlgorithm: undefined,
      autoAllocateChunkSize: undefined,
      pendingPullIntos: undefined,
    };
    new ReadableByteStreamController(kCreate, controller);
    return controller;
  }

  let byteControllerRecord;
  class ReadableByteStreamController {
    #controller;
    constructor(token = undefined, record = undefined) {
      if (token !== kCreate) throw illegalConstructor();
      this.#controller = record;
      record.pub = this;
    }
    static {
      byteControllerRecord = (o) => (isObject(o) && #controller in o ? o.#controller : undefined);
    }
    get byobRequest() {
      return readableByteStreamControllerGetBYOBRequest(brand(byteControllerRecord, this));
    }
    get desiredSize() {
      return readableByteStreamControllerGetDesiredSize(brand(byteControllerRecord, this));
    }
    close() {
      const controller = brand(byteControllerRecord, this);
      if (controller.closeRequested) throw new TypeErrorCtor("The stream is already closing.");
      if (controller.stream.state !== "readable") throw new TypeErrorCtor("The stream is not readable.");
      readableByteStreamControllerClose(controller);
    }
    enqueue(chunk) {
      const controller = brand(byteControllerRecord, this);
      const parts = viewParts(chunk, "chunk");
      if (parts.byteLength === 0) throw new TypeErrorCtor("The chunk must have a non-zero byteLength.");
      if (isDetachedBuffer(parts.buffer) || arrayBufferByteLength(parts.buffer) === 0) throw new TypeErrorCtor("The chunk's buffer must have a non-zero byteLength.");
      if (controller.closeRequested) throw new TypeErrorCtor("The stream is already closing.");
      if (controller.stream.state !== "readable") throw new TypeErrorCtor("The stream is not readable.");
      readableByteStreamControllerEnqueue(controller, chunk);
    }
    error(e = undefined) {
      readableByteStreamControllerError(brand(byteControllerRecord, this), e);
    }
  }

  let byobRequestRecord;
  class ReadableStreamBYOBRequest {
    #request;
    constructor(token = undefined, record = undefined) {
      if (token !== kCreate) throw illegalConstructor();
      this.#request = record;
    }
    static {
      byobRequestRecord = (o) => (isObject(o) && #request in o ? o.#request : undefined);
    }
    get view() {
      return brand(byobRequestRecord, this).view;
    }
    respond(bytesWritten) {
      const request = brand(byobRequestRecord, this);
      bytesWritten = enforceRangeUnsignedLongLong(bytesWritten, "bytesWritten");
      if (request.controller === undefined) throw new TypeErrorCtor("This BYOB request has been invalidated.");
      if (isDetachedBuffer(viewParts(request.view, "view").buffer)) throw new TypeErrorCtor("The view's buffer has been detached.");
      readableByteStreamControllerRespond(request.controller, bytesWritten);
    }
    respondWithNewView(view) {
      const request = brand(byobRequestRecord, this);
      const parts = viewParts(view, "view");
      if (request.controller === undefined) throw new TypeErrorCtor("This BYOB request has been invalidated.");
      if (isDetachedBuffer(parts.buffer)) throw new TypeErrorCtor("The view's buffer has been detached.");
      readableByteStreamControllerRespondWithNewView(request.controller, view);
    }
  }

  function readableByteStreamControllerCallPullIfNeeded(controller) {
    if (!readableByteStreamControllerShouldCallPull(controller)) return;
    if (controller.pulling) {
      controller.pullAgain = true;
      return;
    }
    controller.pulling = true;
    uponPromise(controller.pullAlgorithm(), () => {
      controller.pulling = false;
      if (controller.pullAgain) {
        controller.pullAgain = false;
        readableByteStreamControllerCallPullIfNeeded(controller);
      }
    }, (e) => readableByteStreamControllerError(controller, e));
  }
  function readableByteStreamControllerClearAlgorithms(controller) {
    controller.pullAlgorithm = undefined;
    controller.cancelAlgorithm = undefined;
  }
  function readableByteStreamControllerClearPendingPullIntos(controller) {
    readableByteStreamControllerInvalidateBYOBRequest(controller);
    controller.pendingPullIntos = new List();
  }
  function readableByteStreamControllerClose(controller) {
    const stream = controller.stream;
    if (controller.closeRequested || stream.state !== "readable") return;
    if (controller.queueTotalSize > 0) {
      controller.closeRequested = true;
      return;
    }
    if (controller.pendingPullIntos.size > 0) {
      const firstPendingPullInto = controller.pendingPullIntos.peek();
      if (firstPendingPullInto.bytesFilled % firstPendingPullInto.elementSize !== 0) {
        const e = new TypeErrorCtor("Insufficient bytes to fill elements in the given buffer.");
        readableByteStreamControllerError(controller, e);
        throw e;
      }
    }
    readableByteStreamControllerClearAlgorithms(controller);
    readableStreamClose(stream);
  }
  function readableByteStreamControllerCommitPullIntoDescriptor(stream, pullIntoDescriptor) {
    const done = stream.state === "closed";
    const filledView = readableByteStreamControllerConvertPullIntoDescriptor(pullIntoDescriptor);
    if (pullIntoDescriptor.readerType === "default") readableStreamFulfillReadRequest(stream, filledView, done);
    else readableStreamFulfillReadIntoRequest(stream, filledView, done);
  }
  function readableByteStreamControllerConvertPullIntoDescriptor(pullIntoDescriptor) {
    const { bytesFilled, elementSize } = pullIntoDescriptor;
    const buffer = transferArrayBuffer(pullIntoDescriptor.buffer);
    return new pullIntoDescriptor.viewConstructor(buffer, pullIntoDescriptor.byteOffset, bytesFilled / elementSize);
  }
  function readableByteStreamControllerEnqueue(controller, chunk) {
    const stream = controller.stream;
    if (controller.closeRequested || stream.state !== "readable") return;
    const { buffer, byteOffset, byteLength } = viewParts(chunk, "chunk");
    if (isDetachedBuffer(buffer)) throw new TypeErrorCtor("The chunk's buffer is detached.");
    const transferredBuffer = transferArrayBuffer(buffer);
    if (controller.pendingPullIntos.size > 0) {
      const firstPendingPullInto = controller.pendingPullIntos.peek();
      if (isDetachedBuffer(firstPendingPullInto.buffer)) throw new TypeErrorCtor("The BYOB request's buffer has been detached.");
      readableByteStreamControllerInvalidateBYOBRequest(controller);
      firstPendingPullInto.buffer = transferArrayBuffer(firstPendingPullInto.buffer);
      if (firstPendingPullInto.readerType === "none") {
        readableByteStreamControllerEnqueueDetachedPullIntoToQueue(controller, firstPendingPullInto);
      }
    }
    if (readableStreamHasDefaultReader(stream)) {
      readableByteStreamControllerProcessReadRequestsUsingQueue(controller);
      if (readableStreamGetNumReadRequests(stream) === 0) {
        readableByteStreamControllerEnqueueChunkToQueue(controller, transferredBuffer, byteOffset, byteLength);
      } else {
        if (controller.pendingPullIntos.size > 0) readableByteStreamControllerShiftPendingPullInto(controller);
        const transferredView = new Uint8ArrayCtor(transferredBuffer, byteOffset, byteLength);
        readableStreamFulfillReadRequest(stream, transferredView, false);
      }
    } else if (readableStreamHasBYOBReader(stream)) {
      readableByteStreamControllerEnqueueChunkToQueue(controller, transferredBuffer, byteOffset, byteLength);
      const filledPullIntos = readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller);
      for (let i = 0; i < filledPullIntos.length; i++) {
        readableByteStreamControllerCommitPullIntoDescriptor(stream, filledPullIntos[i]);
      }
    } else {
      readableByteStreamControllerEnqueueChunkToQueue(controller, transferredBuffer, byteOffset, byteLength);
    }
    readableByteStreamControllerCallPullIfNeeded(controller);
  }
  function readableByteStreamControllerEnqueueChunkToQueue(controller, buffer, byteOffset, byteLength) {
    controller.queue.push({ __proto__: null, buffer, byteOffset, byteLength });
    controller.queueTotalSize += byteLength;
  }
  function readableByteStreamControllerEnqueueClonedChunkToQueue(controller, buffer, byteOffset, byteLength) {
    let cloneResult;
    try {
      cloneResult = cloneArrayBuffer(buffer, byteOffset, byteLength);
    } catch (e) {
      readableByteStreamControllerError(controller, e);
      throw e;
    }
    readableByteStreamControllerEnqueueChunkToQueue(controller, cloneResult, 0, byteLength);
  }
  function readableByteStreamControllerEnqueueDetachedPullIntoToQueue(controller, pullIntoDescriptor) {
    if (pullIntoDescriptor.bytesFilled > 0) {
      readableByteStreamControllerEnqueueClonedChunkToQueue(controller, pullIntoDescriptor.buffer, pullIntoDescriptor.byteOffset, pullIntoDescriptor.bytesFilled);
    }
    readableByteStreamControllerShiftPendingPullInto(controller);
  }
  function readableByteStreamControllerError(controller, e) {
    const stream = controller.stream;
    if (stream.state !== "readable") return;
    readableByteStreamControllerClearPendingPullIntos(controller);
    resetQueue(controller);
    readableByteStreamControllerClearAlgorithms(controller);
    readableStreamError(stream, e);
  }
  function readableByteStreamControllerFillHeadPullIntoDescriptor(controller, size, pullIntoDescriptor) {
    pullIntoDescriptor.bytesFilled += size;
  }
  function readableByteStreamControllerFillPullIntoDescriptorFromQueue(controller, pullIntoDescriptor) {
    const maxBytesToCopy = MathMin(controller.queueTotalSize, pullIntoDescriptor.byteLength - pullIntoDescriptor.bytesFilled);
    const maxBytesFilled = pullIntoDescriptor.bytesFilled + maxBytesToCopy;
    let totalBytesToCopyRemaining = maxBytesToCopy;
    let ready = false;
    const remainderBytes = maxBytesFilled % pullIntoDescriptor.elementSize;
    const maxAlignedBytes = maxBytesFilled - remainderBytes;
    if (maxAlignedBytes >= pullIntoDescriptor.minimumFill) {
      totalBytesToCopyRemaining = maxAlignedBytes - pullIntoDescriptor.bytesFilled;
      ready = true;
    }
    const queue = controller.queue;
    while (totalBytesToCopyRemaining > 0) {
      const headOfQueue = queue.peek();
      const bytesToCopy = MathMin(totalBytesToCopyRemaining, headOfQueue.byteLength);
      const destStart = pullIntoDescriptor.byteOffset + pullIntoDescriptor.bytesFilled;
      copyDataBlockBytes(pullIntoDescriptor.buffer, destStart, headOfQueue.buffer, headOfQueue.byteOffset, bytesToCopy);
      if (headOfQueue.byteLength === bytesToCopy) {
        queue.shift();
      } else {
        headOfQueue.byteOffset += bytesToCopy;
        headOfQueue.byteLength -= bytesToCopy;
      }
      controller.queueTotalSize -= bytesToCopy;
      readableByteStreamControllerFillHeadPullIntoDescriptor(controller, bytesToCopy, pullIntoDescriptor);
      totalBytesToCopyRemaining -= bytesToCopy;
    }
    return ready;
  }
  function readableByteStreamControllerFillReadRequestFromQueue(controller, readRequest) {
    const entry = controller.queue.shift();
    controller.queueTotalSize -= entry.byteLength;
    readableByteStreamControllerHandleQueueDrain(controller);
    readRequest.chunkSteps(new Uint8ArrayCtor(entry.buffer, entry.byteOffset, entry.byteLength));
  }
  function readableByteStreamControllerGetBYOBRequest(controller) {
    if (controller.byobRequest === null && controller.pendingPullIntos.size > 0) {
      const first = controller.pendingPullIntos.peek();
      const view = new Uint8ArrayCtor(first.buffer, first.byteOffset + first.bytesFilled, first.byteLength - first.bytesFilled);
      const record = { __proto__: null, controller, view };
      controller.byobRequest = new ReadableStreamBYOBRequest(kCreate, record);
    }
    return controller.byobRequest;
  }
  function readableByteStreamControllerGetDesiredSize(controller) {
    const state = controller.stream.state;
    if (state === "errored") return null;
    if (state === "closed") return 0;
    return controller.strategyHWM - controller.queueTotalSize;
  }
  function readableByteStreamControllerHandleQueueDrain(controller) {
    if (controller.queueTotalSize === 0 && controller.closeRequested) {
      readableByteStreamControllerClearAlgorithms(controller);
      readableStreamClose(controller.stream);
    } else {
      readableByteStreamControllerCallPullIfNeeded(controller);
    }
  }
  function readableByteStreamControllerInvalidateBYOBRequest(controller) {
    if (controller.byobRequest === null) return;
    const record = byobRequestRecord(controller.byobRequest);
    record.controller = undefined;
    record.view = null;
    controller.byobRequest = null;
  }
  function readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller) {
    const filledPullIntos = [];
    while (controller.pendingPullIntos.size > 0) {
      if (controller.queueTotalSize === 0) break;
      const pullIntoDescriptor = controller.pendingPullIntos.peek();
      if (readableByteStreamControllerFillPullIntoDescriptorFromQueue(controller, pullIntoDescriptor)) {
        readableByteStreamControllerShiftPendingPullInto(controller);
        filledPullIntos[filledPullIntos.length] = pullIntoDescriptor;
      }
    }
    return filledPullIntos;
  }
  function readableByteStreamControllerProcessReadRequestsUsingQueue(controller) {
    const reader = controller.stream.reader;
    while (reader.readRequests.size > 0) {
      if (controller.queueTotalSize === 0) return;
      const readRequest = reader.readRequests.shift();
      readableByteStreamControllerFillReadRequestFromQueue(controller, readRequest);
    }
  }
  function readableByteStreamControllerPullInto(controller, view, min, readIntoRequest) {
    const stream = controller.stream;
    const parts = viewParts(view, "view");
    const elementSize = parts.elementSize;
    const ctor = parts.ctor;
    const minimumFill = min * elementSize;
    const byteOffset = parts.byteOffset;
    const byteLength = parts.byteLength;
    let buffer;
    try {
      buffer = transferArrayBuffer(parts.buffer);
    } catch (e) {
      readIntoRequest.errorSteps(e);
      return;
    }
    const pullIntoDescriptor = {
      __proto__: null,
      buffer,
      bufferByteLength: arrayBufferByteLength(buffer),
      byteOffset,
      byteLength,
      bytesFilled: 0,
      minimumFill,
      elementSize,
      viewConstructor: ctor,
      readerType: "byob",
    };
    if (controller.pendingPullIntos.size > 0) {
      controller.pendingPullIntos.push(pullIntoDescriptor);
      readableStreamAddReadIntoRequest(stream, readIntoRequest);
      return;
    }
    if (stream.state === "closed") {
      readIntoRequest.closeSteps(new ctor(pullIntoDescriptor.buffer, pullIntoDescriptor.byteOffset, 0));
      return;
    }
    if (controller.queueTotalSize > 0) {
      if (readableByteStreamControllerFillPullIntoDescriptorFromQueue(controller, pullIntoDescriptor)) {
        const filledView = readableByteStreamControllerConvertPullIntoDescriptor(pullIntoDescriptor);
        readableByteStreamControllerHandleQueueDrain(controller);
        readIntoRequest.chunkSteps(filledView);
        return;
      }
      if (controller.closeRequested) {
        const e = new TypeErrorCtor("Insufficient bytes to fill elements in the given buffer.");
        readableByteStreamControllerError(controller, e);
        readIntoRequest.errorSteps(e);
        return;
      }
    }
    controller.pendingPullIntos.push(pullIntoDescriptor);
    readableStreamAddReadIntoRequest(stream, readIntoRequest);
    readableByteStreamControllerCallPullIfNeeded(controller);
  }
  function readableByteStreamControllerRespond(controller, bytesWritten) {
    const firstDescriptor = controller.pendingPullIntos.peek();
    const state = controller.stream.state;
    if (state === "closed") {
      if (bytesWritten !== 0) throw new TypeErrorCtor("bytesWritten must be 0 when calling respond() on a closed stream.");
    } else {
      if (bytesWritten === 0) throw new TypeErrorCtor("bytesWritten must be greater than 0 when calling respond() on a readable stream.");
      if (firstDescriptor.bytesFilled + bytesWritten > firstDescriptor.byteLength) throw new RangeErrorCtor("bytesWritten out of range.");
    }
    firstDescriptor.buffer = transferArrayBuffer(firstDescriptor.buffer);
    readableByteStreamControllerRespondInternal(controller, bytesWritten);
  }
  function readableByteStreamControllerRespondInClosedState(controller, firstDescriptor) {
    if (firstDescriptor.readerType === "none") readableByteStreamControllerShiftPendingPullInto(controller);
    const stream = controller.stream;
    if (readableStreamHasBYOBReader(stream)) {
      const filledPullIntos = [];
      while (filledPullIntos.length < readableStreamGetNumReadIntoRequests(stream)) {
        filledPullIntos[filledPullIntos.length] = readableByteStreamControllerShiftPendingPullInto(controller);
      }
      for (let i = 0; i < filledPullIntos.length; i++) {
        readableByteStreamControllerCommitPullIntoDescriptor(stream, filledPullIntos[i]);
      }
    }
  }
  function readableByteStreamControllerRespondInReadableState(controller, bytesWritten, pullIntoDescriptor) {
    readableByteStreamControllerFillHeadPullIntoDescriptor(controller, bytesWritten, pullIntoDescriptor);
    if (pullIntoDescriptor.readerType === "none") {
      readableByteStreamControllerEnqueueDetachedPullIntoToQueue(controller, pullIntoDescriptor);
      const filledPullIntos = readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller);
      for (let i = 0; i < filledPullIntos.length; i++) {
        readableByteStreamControllerCommitPullIntoDescriptor(controller.stream, filledPullIntos[i]);
      }
      return;
    }
    if (pullIntoDescriptor.bytesFilled < pullIntoDescriptor.minimumFill) return;
    readableByteStreamControllerShiftPendingPullInto(controller);
    const remainderSize = pullIntoDescriptor.bytesFilled % pullIntoDescriptor.elementSize;
    if (remainderSize > 0) {
      const end = pullIntoDescriptor.byteOffset + pullIntoDescriptor.bytesFilled;
      readableByteStreamControllerEnqueueClonedChunkToQueue(controller, pullIntoDescriptor.buffer, end - remainderSize, remainderSize);
    }
    pullIntoDescriptor.bytesFilled -= remainderSize;
    const filledPullIntos = readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller);
    readableByteStreamControllerCommitPullIntoDescriptor(controller.stream, pullIntoDescriptor);
    for (let i = 0; i < filledPullIntos.length; i++) {
      readableByteStreamControllerCommitPullIntoDescriptor(controller.stream, filledPullIntos[i]);
    }
  }
  function readableByteStreamControllerRespondInternal(controller, bytesWritten) {
    const firstDescriptor = controller.pendingPullIntos.peek();
    readableByteStreamControllerInvalidateBYOBRequest(controller);
    if (controller.stream.state === "closed") {
      readableByteStreamControllerRespondInClosedState(controller, firstDescriptor);
    } else {
      readableByteStreamControllerRespondInReadableState(controller, bytesWritten, firstDescriptor);
    }
    readableByteStreamControllerCallPullIfNeeded(controller);
  }
  function readableByteStreamControllerRespondWithNewView(controller, view) {
    const parts = viewParts(view, "view");
    const firstDescriptor = controller.pendingPullIntos.peek();
    const state = controller.stream.state;
    if (state === "closed") {
      if (parts.byteLength !== 0) throw new TypeErrorCtor("The view's length must be 0 when calling respondWithNewView() on a closed stream.");
    } else if (parts.byteLength === 0) {
      throw new TypeErrorCtor("The view's length must be greater than 0 when calling respondWithNewView() on a readable stream.");
    }
    if (firstDescriptor.byteOffset + firstDescriptor.bytesFilled !== parts.byteOffset) throw new RangeErrorCtor("The region specified by view does not match byobRequest.");
    if (firstDescriptor.bufferByteLength !== arrayBufferByteLength(parts.buffer)) throw new RangeErrorCtor("The buffer of view has different capacity than byobRequest.");
    if (firstDescriptor.bytesFilled + parts.byteLength > firstDescriptor.byteLength) throw new RangeErrorCtor("The region specified by view is larger than byobRequest.");
    firstDescriptor.buffer = transferArrayBuffer(parts.buffer);
    readableByteStreamControllerRespondInternal(controller, parts.byteLength);
  }
  function readableByteStreamControllerShiftPendingPullInto(controller) {
    return controller.pendingPullIntos.shift();
  }
  function readableByteStreamControllerShouldCallPull(controller) {
    const stream = controller.stream;
    if (stream.state !== "readable") return false;
    if (controller.closeRequested) return false;
    if (!controller.started) return false;
    if (readableStreamHasDefaultReader(stream) && readableStreamGetNumReadRequests(stream) > 0) return true;
    if (readableStreamHasBYOBReader(stream) && readableStreamGetNumReadIntoRequests(stream) > 0) return true;
    return readableByteStreamControllerGetDesiredSize(controller) > 0;
  }
  function setUpReadableByteStreamController(stream, controller, startAlgorithm, pullAlgorithm, cancelAlgorithm, highWaterMark, autoAllocateChunkSize) {
    controller.stream = stream;
    controller.pullAgain = false;
    controller.pulling = false;
    controller.byobRequest = null;
    resetQueue(controller);
    controller.closeRequested = false;
    controller.started = false;
    controller.strategyHWM = highWaterMark;
    controller.pullAlgorithm = pullAlgorithm;
    controller.cancelAlgorithm = cancelAlgorithm;
    controller.autoAllocateChunkSize = autoAllocateChunkSize;
    controller.pendingPullIntos = new List();
    stream.controller = controller;
    const startResult = startAlgorithm();
    uponPromise(promiseResolvedWith(startResult), () => {
      controller.started = true;
      readableByteStreamControllerCallPullIfNeeded(controller);
    }, (r) => readableByteStreamControllerError(controller, r));
  }
  function setUpReadableByteStreamControllerFromUnderlyingSource(stream, underlyingSource, source, highWaterMark) {
    const controller = newByteControllerRecord();
    const { start, pull, cancel, autoAllocateChunkSize } = source;
    const startAlgorithm = start === undefined ? () => undefined : () => call(start, underlyingSource, controller.pub);
    const pullAlgorithm = pull === undefined ? () => promiseResolvedWith(undefined) : () => invokePromiseCallback(pull, underlyingSource, [controller.pub]);
    const cancelAlgorithm = cancel === undefined ? () => promiseResolvedWith(undefined) : (reason) => invokePromiseCallback(cancel, underlyingSource, [reason]);
    if (autoAllocateChunkSize === 0) throw new TypeErrorCtor("autoAllocateChunkSize must be greater than 0.");
    setUpReadableByteStreamController(stream, controller, startAlgorithm, pullAlgorithm, cancelAlgorithm, highWaterMark, autoAllocateChunkSize);
  }

  // =====================================================================
  // Writable streams
  // =====================================================================
  let writableRecord;
  class WritableStream {
    #stream;
    constructor(underlyingSink = undefined, strategy = undefined) {
      if (underlyingSink === kCreate) {
        this.#stream = strategy;
        strategy.pub = this;
        return;
      }
      const strategyDict = queuingStrategy(strategy, "strategy");
      if (underlyingSink === undefined) underlyingSink = null;
      else if (!isObject(underlyingSink)) throw new TypeErrorCtor("underlyingSink is not an object.");
      const sink = underlyingSinkDict(underlyingSink);
      if (sink.type !== undefined) throw new RangeErrorCtor("Invalid type is specified.");
      const stream = newWritableStreamRecord();
      this.#stream = stream;
      stream.pub = this;
      const sizeAlgorithm = extractSizeAlgorithm(strategyDict);
      const highWaterMark = extractHighWaterMark(strategyDict, 1);
      setUpWritableStreamDefaultControllerFromUnderlyingSink(stream, underlyingSink, sink, highWaterMark, sizeAlgorithm);
    }
    static {
      writableRecord = (o) => (isObject(o) && #stream in o ? o.#stream : undefined);
    }
    get locked() {
      return isWritableStreamLocked(brand(writableRecord, this));
    }
    abort(reason = undefined) {
      try {
        const stream = brand(writableRecord, this);
        if (isWritableStreamLocked(stream)) throw new TypeErrorCtor("Cannot abort a locked WritableStream.");
        return writableStreamAbort(stream, reason);
      } catch (e) {
        return promiseRejectedWith(e);
      }
    }
    close() {
      try {
        const stream = brand(writableRecord, this);
        if (isWritableStreamLocked(stream)) throw new TypeErrorCtor("Cannot close a locked WritableStream.");
        if (writableStreamCloseQueuedOrInFlight(stream)) throw new TypeErrorCtor("The WritableStream is already closing.");
        return writableStreamClose(stream);
      } catch (e) {
        return promiseRejectedWith(e);
      }
    }
    getWriter() {
      return acquireWritableStreamDefaultWriter(brand(writableRecord, this)).pub;
    }
  }

  // UnderlyingSink, members read in lexicographic order.
  function underlyingSinkDict(sink) {
    const dict = dictionary(sink, "underlyingSink");
    const abort = callbackMember(dict, "abort", "underlyingSink");
    const close = callbackMember(dict, "close", "underlyingSink");
    const start = callbackMember(dict, "start", "underlyingSink");
    const type = member(dict, "type");
    const write = callbackMember(dict, "write", "underlyingSink");
    return { __proto__: null, abort, close, start, type, write };
  }

  function newWritableStreamRecord() {
    return {
      __proto__: null,
      pub: undefined,
      state: "writable",
      storedError: undefined,
      writer: undefined,
      controller: undefined,
      inFlightWriteRequest: undefined,
      closeRequest: undefined,
      inFlightCloseRequest: undefined,
      pendingAbortRequest: undefined,
      writeRequests: new List(),
      backpressure: false,
    };
  }

  // ---- WritableStream abstract operations
  function acquireWritableStreamDefaultWriter(stream) {
    const writer = newWriterRecord();
    setUpWritableStreamDefaultWriter(writer, stream);
    new WritableStreamDefaultWriter(kCreate, writer);
    return writer;
  }
  function createWritableStream(startAlgorithm, writeAlgorithm, closeAlgorithm, abortAlgorithm, highWaterMark, sizeAlgorithm) {
    const stream = newWritableStreamRecord();
    new WritableStream(kCreate, stream);
    const controller = newWritableControllerRecord();
    setUpWritableStreamDefaultController(stream, controller, startAlgorithm, writeAlgorithm, closeAlgorithm, abortAlgorithm, highWaterMark, sizeAlgorithm);
    return stream;
  }
  const isWritableStreamLocked = (stream) => stream.writer !== undefined;
  function setUpWritableStreamDefaultWriter(writer, stream) {
    if (isWritableStreamLocked(stream)) throw new TypeErrorCtor("The WritableStream is locked.");
    writer.stream = stream;
    stream.writer = writer;
    const state = stream.state;
    if (state === "writable") {
      if (!writableStreamCloseQueuedOrInFlight(stream) && stream.backpressure) writer.readyPromise = newPromise();
      else writer.readyPromise = resolvedCap(undefined);
      writer.closedPromise = newPromise();
    } else if (state === "erroring") {
      writer.readyPromise = rejectedCap(stream.storedError);
      writer.closedPromise = newPromise();
    } else if (state === "closed") {
      writer.readyPromise = resolvedCap(undefined);
      writer.closedPromise = resolvedCap(undefined);
    } else {
      writer.readyPromise = rejectedCap(stream.storedError);
      writer.closedPromise = rejectedCap(stream.storedError);
    }
  }
  function writableStreamAbort(stream, reason) {
    if (stream.state === "closed" || stream.state === "errored") return promiseResolvedWith(undefined);
    writableStreamDefaultControllerSignalAbort(stream.controller, reason);
    // Abort listeners may have changed the state.
    const state = stream.state;
    if (state === "closed" || state === "errored") return promiseResolvedWith(undefined);
    if (stream.pendingAbortRequest !== undefined) return stream.pendingAbortRequest.promise.promise;
    let wasAlreadyErroring = false;
    if (state === "erroring") {
      wasAlreadyErroring = true;
      reason = undefined;
    }
    const promise = newPromise();
    stream.pendingAbortRequest = { __proto__: null, promise, reason, wasAlreadyErroring };
    if (!wasAlreadyErroring) writableStreamStartErroring(stream, reason);
    return promise.promise;
  }
  function writableStreamClose(stream) {
    const state = stream.state;
    if (state === "closed" || state === "errored") {
      return promiseRejectedWith(new TypeErrorCtor(`The stream is ${state} and cannot be closed.`));
    }
    const promise = newPromise();
    stream.closeRequest = promise;
    const writer = stream.writer;
    if (writer !== undefined && stream.backpressure && state === "writable") writer.readyPromise.resolve(undefined);
    writableStreamDefaultControllerClose(stream.controller);
    return promise.promise;
  }
  function writableStreamAddWriteRequest(stream) {
    const promise = newPromise();
    stream.writeRequests.push(promise);
    return promise.promise;
  }
  const writableStreamCloseQueuedOrInFlight = (stream) =>
    stream.closeRequest !== undefined || stream.inFlightCloseRequest !== undefined;
  function writableStreamDealWithRejection(stream, error) {
    if (stream.state === "writable") {
      writableStreamStartErroring(stream, error);
      return;
    }
    writableStreamFinishErroring(stream);
  }
  function writableStreamFinishErroring(stream) {
    stream.state = "errored";
    resetQueue(stream.controller);
    const storedError = stream.storedError;
    stream.writeRequests.forEach((request) => request.reject(storedError));
    stream.writeRequests = new List();
    if (stream.pendingAbortRequest === undefined) {
      writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
      return;
    }
    const abortRequest = stream.pendingAbortRequest;
    stream.pendingAbortRequest = undefined;
    if (abortRequest.wasAlreadyErroring) {
      abortRequest.promise.reject(storedError);
      writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
      return;
    }
    const promise = writableStreamDefaultControllerAbortSteps(stream.controller, abortRequest.reason);
    uponPromise(promise, () => {
      abortRequest.promise.resolve(undefined);
      writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
    }, (reason) => {
      abortRequest.promise.reject(reason);
      writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
    });
  }
  function writableStreamFinishInFlightClose(stream) {
    stream.inFlightCloseRequest.resolve(undefined);
    stream.inFlightCloseRequest = undefined;
    if (stream.state === "erroring") {
      stream.storedError = undefined;
      if (stream.pendingAbortRequest !== undefined) {
        stream.pendingAbortRequest.promise.resolve(undefined);
        stream.pendingAbortRequest = undefined;
      }
    }
    stream.state = "closed";
    const writer = stream.writer;
    if (writer !== undefined) writer.closedPromise.resolve(undefined);
  }
  function writableStreamFinishInFlightCloseWithError(stream, error) {
    stream.inFlightCloseRequest.reject(error);
    stream.inFlightCloseRequest = undefined;
    if (stream.pendingAbortRequest !== undefined) {
      stream.pendingAbortRequest.promise.reject(error);
      stream.pendingAbortRequest = undefined;
    }
    writableStreamDealWithRejection(stream, error);
  }
  function writableStreamFinishInFlightWrite(stream) {
    stream.inFlightWriteRequest.resolve(undefined);
    stream.inFlightWriteRequest = undefined;
  }
  function writableStreamFinishInFlightWriteWithError(stream, error) {
    stream.inFlightWriteRequest.reject(error);
    stream.inFlightWriteRequest = undefined;
    writableStreamDealWithRejection(stream, error);
  }
  const writableStreamHasOperationMarkedInFlight = (stream) =>
    stream.inFlightWriteRequest !== undefined || stream.inFlightCloseRequest !== undefined;
  function writableStreamMarkCloseRequestInFlight(stream) {
    stream.inFlightCloseRequest = stream.closeRequest;
    stream.closeRequest = undefined;
  }
  function writableStreamMarkFirstWriteRequestInFlight(stream) {
    stream.inFlightWriteRequest = stream.writeRequests.shift();
  }
  function writableStreamRejectCloseAndClosedPromiseIfNeeded(stream) {
    if (stream.closeRequest !== undefined) {
      stream.closeRequest.reject(stream.storedError);
      stream.closeRequest = undefined;
    }
    const writer = stream.writer;
    if (writer !== undefined) {
      writer.closedPromise.reject(stream.storedError);
      setPromiseIsHandledToTrue(writer.closedPromise.promise);
    }
  }
  function writableStreamStartErroring(stream, reason) {
    const controller = stream.controller;
    stream.state = "erroring";
    stream.storedError = reason;
    const writer = stream.writer;
    if (writer !== undefined) writableStreamDefaultWriterEnsureReadyPromiseRejected(writer, reason);
    if (!writableStreamHasOperationMarkedInFlight(stream) && controller.started) writableStreamFinishErroring(stream);
  }
  function writableStreamUpdateBackpressure(stream, backpressure) {
    const writer = stream.writer;
    if (writer !== undefined && backpressure !== stream.backpressure) {
      if (backpressure) writer.readyPromise = newPromise();
      else writer.readyPromise.resolve(undefined);
    }
    stream.backpressure = backpressure;
  }

  // =====================================================================
  // WritableStreamDefaultWriter
  // =====================================================================
  function newWriterRecord() {
    return { __proto__: null, pub: undefined, stream: undefined, readyPromise: undefined, closedPromise: undefined };
  }

  let writerRecord;
  class WritableStreamDefaultWriter {
    #writer;
    constructor(stream, record = undefined) {
      if (stream === kCreate) {
        this.#writer = record;
        record.pub = this;
        return;
      }
      const streamRecord = writableRecord(stream);
      if (streamRecord === undefined) throw new TypeErrorCtor("The argument is not a WritableStream.");
      const writer = newWriterRecord();
      setUpWritableStreamDefaultWriter(writer, streamRecord);
      this.#writer = writer;
      writer.pub = this;
    }
    static {
      writerRecord = (o) => (isObject(o) && #writer in o ? o.#writer : undefined);
    }
    get closed() {
      try {
        return brand(writerRecord, this).closedPromise.promise;
      } catch (e) {
        return promiseRejectedWith(e);
      }
    }
    get desiredSize() {
      const writer = brand(writerRecord, this);
      if (writer.stream === undefined) throw new TypeErrorCtor("The writer has been released.");
      return writableStreamDefaultWriterGetDesiredSize(writer);
    }
    get ready() {
      try {
        return brand(writerRecord, this).readyPromise.promise;
      } catch (e) {
        return promiseRejectedWith(e);
      }
    }
    abort(reason = undefined) {
      try {
        const writer = brand(writerRecord, this);
        if (writer.stream === undefined) throw new TypeErrorCtor("The writer has been released.");
        return writableStreamAbort(writer.stream, reason);
      } catch (e) {
        return promiseRejectedWith(e);
      }
    }
    close() {
      try {
        const writer = brand(writerRecord, this);
        const stream = writer.stream;
        if (stream === undefined) throw new TypeErrorCtor("The writer has been released.");
        if (writableStreamCloseQueuedOrInFlight(stream)) throw new TypeErrorCtor("The WritableStream is already closing.");
        return writableStreamClose(stream);
      } catch (e) {
        return promiseRejectedWith(e);
      }
    }
    releaseLock() {
      const writer = brand(writerRecord, this);
      if (writer.stream === undefined) return;
      writableStreamDefaultWriterRelease(writer);
    }
    write(chunk = undefined) {
      try {
        const writer = brand(writerRecord, this);
        if (writer.stream === undefined) throw new TypeErrorCtor("The writer has been released.");
        return writableStreamDefaultWriterWrite(writer, chunk);
      } catch (e) {
        return promiseRejectedWith(e);
      }
    }
  }

  function writableStreamDefaultWriterCloseWithErrorPropagation(writer) {
    const stream = writer.stream;
    const state = stream.state;
    if (writableStreamCloseQueuedOrInFlight(stream) || state === "closed") return promiseResolvedWith(undefined);
    if (state === "errored") return promiseRejectedWith(stream.storedError);
    return writableStreamClose(stream);
  }
  function writableStreamDefaultWriterEnsureClosedPromiseRejected(writer, error) {
    if (writer.closedPromise.state === "pending") writer.closedPromise.reject(error);
    else writer.closedPromise = rejectedCap(error);
    setPromiseIsHandledToTrue(writer.closedPromise.promise);
  }
  function writableStreamDefaultWriterEnsureReadyPromiseRejected(writer, error) {
    if (writer.readyPromise.state === "pending") writer.readyPromise.reject(error);
    else writer.readyPromise = rejectedCap(error);
    setPromiseIsHandledToTrue(writer.readyPromise.promise);
  }
  function writableStreamDefaultWriterGetDesiredSize(writer) {
    const stream = writer.stream;
    const state = stream.state;
    if (state === "errored" || state === "erroring") return null;
    if (state === "closed") return 0;
    return writableStreamDefaultControllerGetDesiredSize(stream.controller);
  }
  function writableStreamDefaultWriterRelease(writer) {
    const stream = writer.stream;
    const releasedError = new TypeErrorCtor("The writer's lock was released.");
    writableStreamDefaultWriterEnsureReadyPromiseRejected(writer, releasedError);
    writableStreamDefaultWriterEnsureClosedPromiseRejected(writer, releasedError);
    stream.writer = undefined;
    writer.stream = undefined;
  }
  function writableStreamDefaultWriterWrite(writer, chunk) {
    const stream = writer.stream;
    const controller = stream.controller;
    const chunkSize = writableStreamDefaultControllerGetChunkSize(controller, chunk);
    // The size algorithm may have released the writer.
    if (stream !== writer.stream) return promiseRejectedWith(new TypeErrorCtor("The writer's lock was released."));
    const state = stream.state;
    if (state === "errored") return promiseRejectedWith(stream.storedError);
    if (writableStreamCloseQueuedOrInFlight(stream) || state === "closed") {
      return promiseRejectedWith(new TypeErrorCtor("The stream is closing or closed and cannot be written to."));
    }
    if (state === "erroring") return promiseRejectedWith(stream.storedError);
    const promise = writableStreamAddWriteRequest(stream);
    writableStreamDefaultControllerWrite(controller, chunk, chunkSize);
    return promise;
  }

  // =====================================================================
  // WritableStreamDefaultController
  // =====================================================================
  // The queue's marker for a requested close.
  const closeSentinel = Symbol("close");

  function newWritableControllerRecord() {
    const controller = {
      __proto__: null,
      pub: undefined,
      stream: undefined,
      queue: undefined,
      queueTotalSize: 0,
      started: false,
      strategySizeAlgorithm: undefined,
      strategyHWM: 0,
      writeAlgorithm: undefined,
      closeAlgorithm: undefined,
      abortAlgorithm: undefined,
      // The spec's [[abortController]], created when `signal` is first
      // read (only listeners can observe it, and nobody can listen to a
      // signal never handed out); until then an abort is remembered here.
      abortController: undefined,
      aborted: false,
      abortReason: undefined,
    };
    new WritableStreamDefaultController(kCreate, controller);
    return controller;
  }

  let writableControllerRecord;
  class WritableStreamDefaultController {
    #controller;
    constructor(token = undefined, record = undefined) {
      if (token !== kCreate) throw illegalConstructor();
      this.#controller = record;
      record.pub = this;
    }
    static {
      writableControllerRecord = (o) => (isObject(o) && #controller in o ? o.#controller : undefined);
    }
    get signal() {
      const controller = brand(writableControllerRecord, this);
      if (controller.abortController === undefined) {
        const w = web();
        controller.abortController = new w.AbortController();
        if (controller.aborted) call(w.abort, controller.abortController, controller.abortReason);
      }
      return call(web().signal, controller.abortController);
    }
    error(e = undefined) {
      const controller = brand(writableControllerRecord, this);
      if (controller.stream.state !== "writable") return;
      writableStreamDefaultControllerError(controller, e);
    }
  }

  function writableStreamDefaultControllerSignalAbort(controller, reason) {
    if (controller.abortController !== undefined) {
      call(web().abort, controller.abortController, reason);
    } else if (!controller.aborted) {
      controller.aborted = true;
      controller.abortReason = reason;
    }
  }
  function writableStreamDefaultControllerAbortSteps(controller, reason) {
    const result = controller.abortAlgorithm(reason);
    writableStreamDefaultControllerClearAlgorithms(controller);
    return result;
  }
  function setUpWritableStreamDefaultController(stream, controller, startAlgorithm, writeAlgorithm, closeAlgorithm, abortAlgorithm, highWaterMark, sizeAlgorithm) {
    controller.stream = stream;
    stream.controller = controller;
    resetQueue(controller);
    controller.started = false;
    controller.strategySizeAlgorithm = sizeAlgorithm;
    controller.strategyHWM = highWaterMark;
    controller.writeAlgorithm = writeAlgorithm;
    controller.closeAlgorithm = closeAlgorithm;
    controller.abortAlgorithm = abortAlgorithm;
    writableStreamUpdateBackpressure(stream, writableStreamDefaultControllerGetBackpressure(controller));
    const startResult = startAlgorithm();
    uponPromise(promiseResolvedWith(startResult), () => {
      controller.started = true;
      writableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
    }, (r) => {
      controller.started = true;
      writableStreamDealWithRejection(stream, r);
    });
  }
  function setUpWritableStreamDefaultControllerFromUnderlyingSink(stream, underlyingSink, sink, highWaterMark, sizeAlgorithm) {
    const controller = newWritableControllerRecord();
    const { start, write, close, abort } = sink;
    const startAlgorithm = start === undefined ? () => undefined : () => call(start, underlyingSink, controller.pub);
    const writeAlgorithm = write === undefined ? () => promiseResolvedWith(undefined) : (chunk) => invokePromiseCallback(write, underlyingSink, [chunk, controller.pub]);
    const closeAlgorithm = close === undefined ? () => promiseResolvedWith(undefined) : () => invokePromiseCallback(close, underlyingSink, []);
    const abortAlgorithm = abort === undefined ? () => promiseResolvedWith(undefined) : (reason) => invokePromiseCallback(abort, underlyingSink, [reason]);
    setUpWritableStreamDefaultController(stream, controller, startAlgorithm, writeAlgorithm, closeAlgorithm, abortAlgorithm, highWaterMark, sizeAlgorithm);
  }
  function writableStreamDefaultControllerAdvanceQueueIfNeeded(controller) {
    const stream = controller.stream;
    if (!controller.started) return;
    if (stream.inFlightWriteRequest !== undefined) return;
    if (stream.state === "erroring") {
      writableStreamFinishErroring(stream);
      return;
    }
    if (controller.queue.size === 0) return;
    const value = peekQueueValue(controller);
    if (value === closeSentinel) writableStreamDefaultControllerProcessClose(controller);
    else writableStreamDefaultControllerProcessWrite(controller, value);
  }
  function writableStreamDefaultControllerClearAlgorithms(controller) {
    controller.writeAlgorithm = undefined;
    controller.closeAlgorithm = undefined;
    controller.abortAlgorithm = undefined;
    controller.strategySizeAlgorithm = undefined;
  }
  function writableStreamDefaultControllerClose(controller) {
    enqueueValueWithSize(controller, closeSentinel, 0);
    writableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
  }
  function writableStreamDefaultControllerError(controller, error) {
    writableStreamDefaultControllerClearAlgorithms(controller);
    writableStreamStartErroring(controller.stream, error);
  }
  function writableStreamDefaultControllerErrorIfNeeded(controller, error) {
    if (controller.stream.state === "writable") writableStreamDefaultControllerError(controller, error);
  }
  const writableStreamDefaultControllerGetBackpressure = (controller) => writableStreamDefaultControllerGetDesiredSize(controller) <= 0;
  function writableStreamDefaultControllerGetChunkSize(controller, chunk) {
    if (controller.strategySizeAlgorithm === undefined) return 1;
    try {
      return controller.strategySizeAlgorithm(chunk);
    } catch (e) {
      writableStreamDefaultControllerErrorIfNeeded(controller, e);
      return 1;
    }
  }
  const writableStreamDefaultControllerGetDesiredSize = (controller) => controller.strategyHWM - controller.queueTotalSize;
  function writableStreamDefaultControllerProcessClose(controller) {
    const stream = controller.stream;
    writableStreamMarkCloseRequestInFlight(stream);
    dequeueValue(controller);
    const sinkClosePromise = controller.closeAlgorithm();
    writableStreamDefaultControllerClearAlgorithms(controller);
    uponPromise(sinkClosePromise, () => writableStreamFinishInFlightClose(stream), (reason) => writableStreamFinishInFlightCloseWithError(stream, reason));
  }
  function writableStreamDefaultControllerProcessWrite(controller, chunk) {
    const stream = controller.stream;
    writableStreamMarkFirstWriteRequestInFlight(stream);
    const sinkWritePromise = controller.writeAlgorithm(chunk);
    uponPromise(sinkWritePromise, () => {
      writableStreamFinishInFlightWrite(stream);
      const state = stream.state;
      dequeueValue(controller);
      if (!writableStreamCloseQueuedOrInFlight(stream) && state === "writable") {
        writableStreamUpdateBackpressure(stream, writableStreamDefaultControllerGetBackpressure(controller));
      }
      writableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
    }, (reason) => {
      if (stream.state === "writable") writableStreamDefaultControllerClearAlgorithms(controller);
      writableStreamFinishInFlightWriteWithError(stream, reason);
    });
  }
  function writableStreamDefaultControllerWrite(controller, chunk, chunkSize) {
    try {
      enqueueValueWithSize(controller, chunk, chunkSize);
    } catch (e) {
      writableStreamDefaultControllerErrorIfNeeded(controller, e);
      return;
    }
    const stream = controller.stream;
    if (!writableStreamCloseQueuedOrInFlight(stream) && stream.state === "writable") {
      writableStreamUpdateBackpressure(stream, writableStreamDefaultControllerGetBackpressure(controller));
    }
    writableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
  }

  // =====================================================================
  // Transform streams
  // =====================================================================
  function newTransformStreamRecord() {
    return {
      __proto__: null,
      pub: undefined,
      backpressure: undefined,
      backpressureChangePromise: undefined,
      controller: undefined,
      readable: undefined,
      writable: undefined,
    };
  }

  let transformRecord;
  class TransformStream {
    #stream;
    constructor(transformer = undefined, writableStrategy = undefined, readableStrategy = undefined) {
      if (transformer === kCreate) {
        this.#stream = writableStrategy;
        writableStrategy.pub = this;
        return;
      }
      const writableStrategyDict = queuingStrategy(writableStrategy, "writableStrategy");
      const readableStrategyDict = queuingStrategy(readableStrategy, "readableStrategy");
      if (transformer === undefined) transformer = null;
      else if (!isObject(transformer)) throw new TypeErrorCtor("transformer is not an object.");
      const dict = transformerDict(transformer);
      if (dict.readableType !== undefined) throw new RangeErrorCtor("Invalid readableType specified.");
      if (dict.writableType !== undefined) throw new RangeErrorCtor("Invalid writableType specified.");
      const readableHighWaterMark = extractHighWaterMark(readableStrategyDict, 0);
      const readableSizeAlgorithm = extractSizeAlgorithm(readableStrategyDict);
      const writableHighWaterMark = extractHighWaterMark(writableStrategyDict, 1);
      const writableSizeAlgorithm = extractSizeAlgorithm(writableStrategyDict);
      const startPromise = newPromise();
      const stream = newTransformStreamRecord();
      this.#stream = stream;
      stream.pub = this;
      initializeTransformStream(stream, startPromise, writableHighWaterMark, writableSizeAlgorithm, readableHighWaterMark, readableSizeAlgorithm);
      setUpTransformStreamDefaultControllerFromTransformer(stream, transformer, dict);
      if (dict.start !== undefined) startPromise.resolve(call(dict.start, transformer, stream.controller.pub));
      else startPromise.resolve(undefined);
    }
    static {
      transformRecord = (o) => (isObject(o) && #stream in o ? o.#stream : undefined);
    }
    get readable() {
      return brand(transformRecord, this).readable.pub;
    }
    get writable() {
      return brand(transformRecord, this).writable.pub;
    }
  }

  // Transformer, members read in lexicographic order.
  function transformerDict(transformer) {
    const dict = dictionary(transformer, "transformer");
    const cancel = callbackMember(dict, "cancel", "transformer");
    const flush = callbackMember(dict, "flush", "transformer");
    const readableType = member(dict, "readableType");
    const start = callbackMember(dict, "start", "transformer");
    const transform = callbackMember(dict, "transform", "transformer");
    const writableType = member(dict, "writableType");
    return { __proto__: null, cancel, flush, readableType, start, transform, writableType };
  }

  function initializeTransformStream(stream, startPromise, writableHighWaterMark, writableSizeAlgorithm, readableHighWaterMark, readableSizeAlgorithm) {
    const startAlgorithm = () => startPromise.promise;
    stream.writable = createWritableStream(
      startAlgorithm,
      (chunk) => transformStreamDefaultSinkWriteAlgorithm(stream, chunk),
      () => transformStreamDefaultSinkCloseAlgorithm(stream),
      (reason) => transformStreamDefaultSinkAbortAlgorithm(stream, reason),
      writableHighWaterMark,
      writableSizeAlgorithm,
    );
    stream.readable = createReadableStream(
      startAlgorithm,
      () => transformStreamDefaultSourcePullAlgorithm(stream),
      (reason) => transformStreamDefaultSourceCancelAlgorithm(stream, reason),
      readableHighWaterMark,
      readableSizeAlgorithm,
    );
    stream.backpressure = undefined;
    stream.backpressureChangePromise = undefined;
    transformStreamSetBackpressure(stream, true);
    stream.controller = undefined;
  }
  function transformStreamError(stream, e) {
    readableStreamDefaultControllerError(stream.readable.controller, e);
    transformStreamErrorWritableAndUnblockWrite(stream, e);
  }
  function transformStreamErrorWritableAndUnblockWrite(stream, e) {
    transformStreamDefaultControllerClearAlgorithms(stream.controller);
    writableStreamDefaultControllerErrorIfNeeded(stream.writable.controller, e);
    transformStreamUnblockWrite(stream);
  }
  function transformStreamSetBackpressure(stream, backpressure) {
    if (stream.backpressureChangePromise !== undefined) stream.backpressureChangePromise.resolve(undefined);
    stream.backpressureChangePromise = newPromise();
    stream.backpressure = backpressure;
  }
  function transformStreamUnblockWrite(stream) {
    if (stream.backpressure) transformStreamSetBackpressure(stream, false);
  }

  // ---- TransformStreamDefaultController
  let transformControllerRecord;
  class TransformStreamDefaultController {
    #controller;
    constructor(token = undefined, record = undefined) {
      if (token !== kCreate) throw illegalConstructor();
      this.#controller = record;
      record.pub = this;
    }
    static {
      transformControllerRecord = (o) => (isObject(o) && #controller in o ? o.#controller : undefined);
    }
    get desiredSize() {
      const controller = brand(transformControllerRecord, this);
      return readableStreamDefaultControllerGetDesiredSize(controller.stream.readable.controller);
    }
    enqueue(chunk = undefined) {
      transformStreamDefaultControllerEnqueue(brand(transformControllerRecord, this), chunk);
    }
    error(reason = undefined) {
      transformStreamError(brand(transformControllerRecord, this).stream, reason);
    }
    terminate() {
      transformStreamDefaultControllerTerminate(brand(transformControllerRecord, this));
    }
  }

  function newTransformControllerRecord() {
    const controller = {
      __proto__: null,
      pub: undefined,
      stream: undefined,
      transformAlgorithm: undefined,
      flushAlgorithm: undefined,
      cancelAlgorithm: undefined,
      finishPromise: undefined,
    };
    new TransformStreamDefaultController(kCreate, controller);
    return controller;
  }
  function setUpTransformStreamDefaultController(stream, controller, transformAlgorithm, flushAlgorithm, cancelAlgorithm) {
    controller.stream = stream;
    stream.controller = controller;
    controller.transformAlgorithm = transformAlgorithm;
    controller.flushAlgorithm = flushAlgorithm;
    controller.cancelAlgorithm = cancelAlgorithm;
  }
  function setUpTransformStreamDefaultControllerFromTransformer(stream, transformer, dict) {
    const controller = newTransformControllerRecord();
    const { transform, flush, cancel } = dict;
    const transformAlgorithm = transform !== undefined
      ? (chunk) => invokePromiseCallback(transform, transformer, [chunk, controller.pub])
      : (chunk) => {
        try {
          transformStreamDefaultControllerEnqueue(controller, chunk);
          return promiseResolvedWith(undefined);
        } catch (e) {
          return promiseRejectedWith(e);
        }
      };
    const flushAlgorithm = flush === undefined ? () => promiseResolvedWith(undefined) : () => invokePromiseCallback(flush, transformer, [controller.pub]);
    const cancelAlgorithm = cancel === undefined ? () => promiseResolvedWith(undefined) : (reason) => invokePromiseCallback(cancel, transformer, [reason]);
    setUpTransformStreamDefaultController(stream, controller, transformAlgorithm, flushAlgorithm, cancelAlgorithm);
  }
  function transformStreamDefaultControllerClearAlgorithms(controller) {
    controller.transformAlgorithm = undefined;
    controller.flushAlgorithm = undefined;
    controller.cancelAlgorithm = undefined;
  }
  function transformStreamDefaultControllerEnqueue(controller, chunk) {
    const stream = controller.stream;
    const readableController = stream.readable.controller;
    if (!readableStreamDefaultControllerCanCloseOrEnqueue(readableController)) {
      throw new TypeErrorCtor("The readable side is not in a state that permits enqueue.");
    }
    try {
      readableStreamDefaultControllerEnqueue(readableController, chunk);
    } catch (e) {
      transformStreamErrorWritableAndUnblockWrite(stream, e);
      throw stream.readable.storedError;
    }
    const backpressure = readableStreamDefaultControllerHasBackpressure(readableController);
    if (backpressure !== stream.backpressure) transformStreamSetBackpressure(stream, true);
  }
  function transformStreamDefaultControllerPerformTransform(controller, chunk) {
    const transformPromise = controller.transformAlgorithm(chunk);
    return transformPromiseWith(transformPromise, undefined, (r) => {
      transformStreamError(controller.stream, r);
      throw r;
    });
  }
  function transformStreamDefaultControllerTerminate(controller) {
    const stream = controller.stream;
    readableStreamDefaultControllerClose(stream.readable.controller);
    transformStreamErrorWritableAndUnblockWrite(stream, new TypeErrorCtor("The TransformStream has been terminated."));
  }
  function transformStreamDefaultSinkWriteAlgorithm(stream, chunk) {
    const controller = stream.controller;
    if (stream.backpressure) {
      return reactAndAdopt(stream.backpressureChangePromise.promise, () => {
        const writable = stream.writable;
        if (writable.state === "erroring") throw writable.storedError;
        return transformStreamDefaultControllerPerformTransform(controller, chunk);
      });
    }
    return transformStreamDefaultControllerPerformTransform(controller, chunk);
  }
  function transformStreamDefaultSinkAbortAlgorithm(stream, reason) {
    const controller = stream.controller;
    if (controller.finishPromise !== undefined) return controller.finishPromise.promise;
    const readable = stream.readable;
    controller.finishPromise = newPromise();
    const cancelPromise = controller.cancelAlgorithm(reason);
    transformStreamDefaultControllerClearAlgorithms(controller);
    uponPromise(cancelPromise, () => {
      if (readable.state === "errored") {
        controller.finishPromise.reject(readable.storedError);
      } else {
        readableStreamDefaultControllerError(readable.controller, reason);
        controller.finishPromise.resolve(undefined);
      }
    }, (r) => {
      readableStreamDefaultControllerError(readable.controller, r);
      controller.finishPromise.reject(r);
    });
    return controller.finishPromise.promise;
  }
  function transformStreamDefaultSinkCloseAlgorithm(stream) {
    const controller = stream.controller;
    if (controller.finishPromise !== undefined) return controller.finishPromise.promise;
    const readable = stream.readable;
    controller.finishPromise = newPromise();
    const flushPromise = controller.flushAlgorithm();
    transformStreamDefaultControllerClearAlgorithms(controller);
    uponPromise(flushPromise, () => {
      if (readable.state === "errored") {
        controller.finishPromise.reject(readable.storedError);
      } else {
        readableStreamDefaultControllerClose(readable.controller);
        controller.finishPromise.resolve(undefined);
      }
    }, (r) => {
      readableStreamDefaultControllerError(readable.controller, r);
      controller.finishPromise.reject(r);
    });
    return controller.finishPromise.promise;
  }
  function transformStreamDefaultSourceCancelAlgorithm(stream, reason) {
    const controller = stream.controller;
    if (controller.finishPromise !== undefined) return controller.finishPromise.promise;
    const writable = stream.writable;
    controller.finishPromise = newPromise();
    const cancelPromise = controller.cancelAlgorithm(reason);
    transformStreamDefaultControllerClearAlgorithms(controller);
    uponPromise(cancelPromise, () => {
      if (writable.state === "errored") {
        controller.finishPromise.reject(writable.storedError);
      } else {
        writableStreamDefaultControllerErrorIfNeeded(writable.controller, reason);
        transformStreamUnblockWrite(stream);
        controller.finishPromise.resolve(undefined);
      }
    }, (r) => {
      writableStreamDefaultControllerErrorIfNeeded(writable.controller, r);
      transformStreamUnblockWrite(stream);
      controller.finishPromise.reject(r);
    });
    return controller.finishPromise.promise;
  }
  function transformStreamDefaultSourcePullAlgorithm(stream) {
    transformStreamSetBackpressure(stream, false);
    return stream.backpressureChangePromise.promise;
  }

  // "Set up" a TransformStream for other specifications' streams: the
  // algorithms may throw; `enqueue` goes to the returned record's controller.
  function setUpTransformStream(transformAlgorithm, flushAlgorithm, cancelAlgorithm) {
    const stream = newTransformStreamRecord();
    new TransformStream(kCreate, stream);
    const wrap = (algorithm) => (arg) => {
      try {
        algorithm(arg);
        return promiseResolvedWith(undefined);
      } catch (e) {
        return promiseRejectedWith(e);
      }
    };
    initializeTransformStream(stream, resolvedCap(undefined), 1, () => 1, 0, () => 1);
    const controller = newTransformControllerRecord();
    setUpTransformStreamDefaultController(stream, controller, wrap(transformAlgorithm), wrap(flushAlgorithm), wrap(cancelAlgorithm));
    return stream;
  }
  const enqueueInto = (stream, chunk) => transformStreamDefaultControllerEnqueue(stream.controller, chunk);

  // =====================================================================
  // Queuing strategies
  // =====================================================================
  // One size function per realm, as the spec says.
  const byteLengthSize = {
    size(chunk) {
      return chunk.byteLength;
    },
  }.size;
  const countSize = {
    size() {
      return 1;
    },
  }.size;
  function queuingStrategyInit(init, what) {
    const dict = dictionary(init, `Failed to construct '${what}': init`);
    const hwm = member(dict, "highWaterMark");
    if (hwm === undefined) throw new TypeErrorCtor(`Failed to construct '${what}': required member highWaterMark is undefined.`);
    return +hwm;
  }

  let byteLengthStrategyHWM;
  class ByteLengthQueuingStrategy {
    #highWaterMark;
    constructor(init) {
      this.#highWaterMark = queuingStrategyInit(init, "ByteLengthQueuingStrategy");
    }
    static {
      byteLengthStrategyHWM = (o) => (isObject(o) && #highWaterMark in o ? o.#highWaterMark : undefined);
    }
    get highWaterMark() {
      return brand(byteLengthStrategyHWM, this);
    }
    get size() {
      brand(byteLengthStrategyHWM, this);
      return byteLengthSize;
    }
  }

  let countStrategyHWM;
  class CountQueuingStrategy {
    #highWaterMark;
    constructor(init) {
      this.#highWaterMark = queuingStrategyInit(init, "CountQueuingStrategy");
    }
    static {
      countStrategyHWM = (o) => (isObject(o) && #highWaterMark in o ? o.#highWaterMark : undefined);
    }
    get highWaterMark() {
      return brand(countStrategyHWM, this);
    }
    get size() {
      brand(countStrategyHWM, this);
      return countSize;
    }
  }

  // =====================================================================
  // TextEncoderStream, TextDecoderStream (Encoding Standard)
  // =====================================================================
  const REPLACEMENT_BYTES = [0xef, 0xbf, 0xbd];
  let textEncoderStreamRecord;
  class TextEncoderStream {
    #transform;
    constructor() {
      // A high surrogate at the end of a chunk waits for the next chunk.
      let pendingHighSurrogate = null;
      const transform = setUpTransformStream((chunk) => {
        let input = `${chunk}`;
        if (pendingHighSurrogate !== null) {
          input = pendingHighSurrogate + input;
          pendingHighSurrogate = null;
        }
        const last = input.length > 0 ? call(StringPrototypeCharCodeAt, input, input.length - 1) : 0;
        if (last >= 0xd800 && last <= 0xdbff) {
          pendingHighSurrogate = call(StringPrototypeSlice, input, -1);
          input = call(StringPrototypeSlice, input, 0, -1);
        }
        if (input.length > 0) enqueueInto(transform, host.utf8Encode(input));
      }, () => {
        if (pendingHighSurrogate !== null) enqueueInto(transform, new Uint8ArrayCtor(REPLACEMENT_BYTES));
      }, noop);
      this.#transform = transform;
    }
    static {
      textEncoderStreamRecord = (o) => (isObject(o) && #transform in o ? o.#transform : undefined);
    }
    get encoding() {
      brand(textEncoderStreamRecord, this);
      return "utf-8";
    }
    get readable() {
      return brand(textEncoderStreamRecord, this).readable.pub;
    }
    get writable() {
      return brand(textEncoderStreamRecord, this).writable.pub;
    }
  }

  let textDecoderStreamRecord;
  class TextDecoderStream {
    #state;
    constructor(label = "utf-8", options = undefined) {
      const w = web();
      // TextDecoder validates the label and options and keeps the
      // streaming decoder state.
      const decoder = new w.TextDecoder(label, options);
      const streamOption = { __proto__: null, stream: true };
      const transform = setUpTransformStream((chunk) => {
        const output = call(w.decode, decoder, bufferSourceBytes(chunk, "chunk"), streamOption);
        if (output !== "") enqueueInto(transform, output);
      }, () => {
        const output = call(w.decode, decoder);
        if (output !== "") enqueueInto(transform, output);
      }, noop);
      this.#state = { __proto__: null, decoder, transform };
    }
    static {
      textDecoderStreamRecord = (o) => (isObject(o) && #state in o ? o.#state : undefined);
    }
    get encoding() {
      return call(web().encoding, brand(textDecoderStreamRecord, this).decoder);
    }
    get fatal() {
      return call(web().fatal, brand(textDecoderStreamRecord, this).decoder);
    }
    get ignoreBOM() {
      return call(web().ignoreBOM, brand(textDecoderStreamRecord, this).decoder);
    }
    get readable() {
      return brand(textDecoderStreamRecord, this).transform.readable.pub;
    }
    get writable() {
      return brand(textDecoderStreamRecord, this).transform.writable.pub;
    }
  }

  // =====================================================================
  // CompressionStream, DecompressionStream (Compression Standard)
  // =====================================================================
  // The Rust state is owned by the handle `compressionOpen` returns: a
  // stream the guest drops unfinished frees it when the handle (reachable
  // only through the transform's closures) is collected.
  function compressionFormat(format) {
    format = `${format}`;
    if (format !== "deflate" && format !== "deflate-raw" && format !== "gzip") {
      throw new TypeErrorCtor(`'${format}' is not a valid CompressionFormat.`);
    }
    return format;
  }
  // Feeds chunks to a Rust codec and enqueues its output slices. The codec
  // is opened by the first chunk or the flush (a stream that is made and
  // dropped holds nothing on the host, even while pending jobs still
  // reference it); every way the stream can end (flushed, failed,
  // cancelled, aborted) frees it.
  function codecTransformStream(format, compress) {
    let handle = null;
    let closed = false;
    const codec = () => {
      if (handle === null && !closed) handle = host.compressionOpen(format, compress);
      return handle;
    };
    const close = () => {
      closed = true;
      if (handle !== null) host.compressionClose(handle);
    };
    const drain = (out, next) => {
      while (out !== null) {
        enqueueInto(transform, out);
        out = next();
      }
    };
    const transform = setUpTransformStream((chunk) => {
      try {
        const bytes = bufferSourceBytes(chunk, "chunk");
        const id = codec();
        drain(host.compressionWrite(id, bytes), () => host.compressionWrite(id));
      } catch (e) {
        close();
        throw e;
      }
    }, () => {
      try {
        const id = codec();
        drain(host.compressionFinish(id), () => host.compressionFinish(id));
      } finally {
        close();
      }
    }, close);
    return transform;
  }

  let compressionStreamRecord;
  class CompressionStream {
    #transform;
    constructor(format) {
      if (arguments.length < 1) throw new TypeErrorCtor("Failed to construct 'CompressionStream': 1 argument required, but only 0 present.");
      this.#transform = codecTransformStream(compressionFormat(format), true);
    }
    static {
      compressionStreamRecord = (o) => (isObject(o) && #transform in o ? o.#transform : undefined);
    }
    get readable() {
      return brand(compressionStreamRecord, this).readable.pub;
    }
    get writable() {
      return brand(compressionStreamRecord, this).writable.pub;
    }
  }

  let decompressionStreamRecord;
  class DecompressionStream {
    #transform;
    constructor(format) {
      if (arguments.length < 1) throw new TypeErrorCtor("Failed to construct 'DecompressionStream': 1 argument required, but only 0 present.");
      this.#transform = codecTransformStream(compressionFormat(format), false);
    }
    static {
      decompressionStreamRecord = (o) => (isObject(o) && #transform in o ? o.#transform : undefined);
    }
    get readable() {
      return brand(decompressionStreamRecord, this).readable.pub;
    }
    get writable() {
      return brand(decompressionStreamRecord, this).writable.pub;
    }
  }

  // =====================================================================
  // Helpers for other chunks (Request/Response bodies)
  // =====================================================================
  // Reads a stream to its end; every chunk must be a Uint8Array (as Fetch's
  // "fully read" requires).
  function readAllBytes(stream) {
    const record = readableRecord(stream);
    if (record === undefined) return promiseRejectedWith(new TypeErrorCtor("The body is not a ReadableStream."));
    let reader;
    try {
      reader = acquireReadableStreamDefaultReader(record);
    } catch (e) {
      return promiseRejectedWith(e);
    }
    const result = newPromise();
    const chunks = [];
    let total = 0;
    const readRequest = {
      __proto__: null,
      chunkSteps(chunk) {
        if (call(TypedArrayName, chunk) !== "Uint8Array") {
          const error = new TypeErrorCtor("The body stream produced a chunk that is not a Uint8Array.");
          result.reject(error);
          readableStreamReaderGenericCancel(reader, error);
          return;
        }
        chunks[chunks.length] = chunk;
        total += call(TypedArrayByteLength, chunk);
        // The next read waits a microtask, so a long stream cannot grow
        // the native stack.
        queueMicrotask(() => readableStreamDefaultReaderRead(reader, readRequest));
      },
      closeSteps() {
        const bytes = new Uint8ArrayCtor(total);
        let offset = 0;
        for (let i = 0; i < chunks.length; i++) {
          call(TypedArraySet, bytes, chunks[i], offset);
          offset += call(TypedArrayByteLength, chunks[i]);
        }
        readableStreamDefaultReaderRelease(reader);
        result.resolve(bytes);
      },
      errorSteps(e) {
        result.reject(e);
      },
    };
    readableStreamDefaultReaderRead(reader, readRequest);
    return result.promise;
  }
  // Hands a stream's chunks to `send` one at a time: the next read starts
  // once `send`'s promise fulfils (so a slow consumer holds the producer
  // back). Every chunk must be a Uint8Array. If `send` rejects, the stream
  // is cancelled with that reason and the pump rejects.
  function pumpBytes(stream, send) {
    const record = readableRecord(stream);
    if (record === undefined) return promiseRejectedWith(new TypeErrorCtor("The body is not a ReadableStream."));
    let reader;
    try {
      reader = acquireReadableStreamDefaultReader(record);
    } catch (e) {
      return promiseRejectedWith(e);
    }
    const result = newPromise();
    const fail = (error) => {
      result.reject(error);
      readableStreamReaderGenericCancel(reader, error);
    };
    const readRequest = {
      __proto__: null,
      chunkSteps(chunk) {
        if (call(TypedArrayName, chunk) !== "Uint8Array") {
          fail(new TypeErrorCtor("The body stream produced a chunk that is not a Uint8Array."));
          return;
        }
        let sent;
        try {
          sent = send(chunk);
        } catch (e) {
          fail(e);
          return;
        }
        uponPromise(sent, () => readableStreamDefaultReaderRead(reader, readRequest), fail);
      },
      closeSteps() {
        readableStreamDefaultReaderRelease(reader);
        result.resolve(undefined);
      },
      errorSteps(e) {
        result.reject(e);
      },
    };
    readableStreamDefaultReaderRead(reader, readRequest);
    return result.promise;
  }
  // A byte stream that yields a copy of `bytes` (a BufferSource) and closes.
  function streamFromBytes(bytes) {
    const copy = new Uint8ArrayCtor(bufferSourceBytes(bytes, "bytes"));
    let stream;
    const startAlgorithm = () => {
      if (call(TypedArrayByteLength, copy) > 0) readableByteStreamControllerEnqueue(stream.controller, copy);
      readableByteStreamControllerClose(stream.controller);
    };
    stream = newReadableStreamRecord();
    new ReadableStream(kCreate, stream);
    setUpReadableByteStreamController(stream, newByteControllerRecord(), startAlgorithm, () => promiseResolvedWith(undefined), () => promiseResolvedWith(undefined), 0, undefined);
    return stream.pub;
  }
  const isReadableStream = (value) => readableRecord(value) !== undefined;
  const isReadableStreamDisturbed = (stream) => readableRecord(stream).disturbed;
  const isReadableStreamLockedPublic = (stream) => isReadableStreamLocked(readableRecord(stream));

  for (const [ctor, tag] of [
    [ReadableStream, "ReadableStream"],
    [ReadableStreamDefaultReader, "ReadableStreamDefaultReader"],
    [ReadableStreamBYOBReader, "ReadableStreamBYOBReader"],
    [ReadableStreamDefaultController, "ReadableStreamDefaultController"],
    [ReadableByteStreamController, "ReadableByteStreamController"],
    [ReadableStreamBYOBRequest, "ReadableStreamBYOBRequest"],
    [WritableStream, "WritableStream"],
    [WritableStreamDefaultWriter, "WritableStreamDefaultWriter"],
    [WritableStreamDefaultController, "WritableStreamDefaultController"],
    [TransformStream, "TransformStream"],
    [TransformStreamDefaultController, "TransformStreamDefaultController"],
    [ByteLengthQueuingStrategy, "ByteLengthQueuingStrategy"],
    [CountQueuingStrategy, "CountQueuingStrategy"],
    [TextEncoderStream, "TextEncoderStream"],
    [TextDecoderStream, "TextDecoderStream"],
    [CompressionStream, "CompressionStream"],
    [DecompressionStream, "DecompressionStream"],
  ]) {
    ObjectDefineProperty(ctor.prototype, SymbolToStringTag, { __proto__: null, value: tag, configurable: true });
  }

  return {
    __proto__: null,
    ReadableStream,
    ReadableStreamDefaultReader,
    ReadableStreamBYOBReader,
    ReadableStreamDefaultController,
    ReadableByteStreamController,
    ReadableStreamBYOBRequest,
    WritableStream,
    WritableStreamDefaultWriter,
    WritableStreamDefaultController,
    TransformStream,
    TransformStreamDefaultController,
    ByteLengthQueuingStrategy,
    CountQueuingStrategy,
    TextEncoderStream,
    TextDecoderStream,
    CompressionStream,
    DecompressionStream,
    readAllBytes,
    pumpBytes,
    streamFromBytes,
    isReadableStream,
    isReadableStreamDisturbed,
    isReadableStreamLocked: isReadableStreamLockedPublic,
  };
});
