// The eager core of an isolate's guest-side runtime: ops, env, and
// entrypoint dispatch with workerd's messages. It is evaluated for every
// sandbox, so it stays small; everything else (console, timers, Web APIs,
// codec helpers, `cloudflare:workers`) lives in extras.js and web.js and is
// loaded on first use. Built-ins are captured here before guest code runs;
// the security boundary is not this file but the host functions, which
// validate everything they are given.
(function (hostCall) {
  "use strict";
  // Indices into the Rust host table (engine/src/host.rs, HOST_FUNCTIONS).
  const OP = 0;
  const SETTLE = 4;
  const SETTLE_RESPONSE = 5;
  const FINISHED = 6;
  const START_FAILED = 7;

  const ObjectCreate = Object.create;
  const ObjectDefineProperty = Object.defineProperty;
  const ObjectGetPrototypeOf = Object.getPrototypeOf;
  const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const ObjectPrototype = Object.prototype;
  const ReflectApply = Reflect.apply;
  const ReflectConstruct = Reflect.construct;
  const PromiseCtor = Promise;
  const PromisePrototypeThen = Promise.prototype.then;
  const PromiseResolve = Promise.resolve.bind(Promise);
  const PromiseAllSettled = Promise.allSettled.bind(Promise);
  const ProxyCtor = Proxy;
  const MapCtor = Map;
  const MapPrototypeGet = Map.prototype.get;
  const MapPrototypeSet = Map.prototype.set;
  const MapPrototypeDelete = Map.prototype.delete;
  const ArrayPrototypeSplice = Array.prototype.splice;
  const ArrayPrototypeIncludes = Array.prototype.includes;
  const ErrorCtor = Error;
  const TypeErrorCtor = TypeError;

  const G = globalThis;
  const defineGlobal = (name, value) =>
    ObjectDefineProperty(G, name, { __proto__: null, value, writable: true, configurable: true, enumerable: false });
  const then = (p, onOk, onErr) => ReflectApply(PromisePrototypeThen, p, [onOk, onErr]);
  const mapGet = (m, k) => ReflectApply(MapPrototypeGet, m, [k]);
  const mapSet = (m, k, v) => ReflectApply(MapPrototypeSet, m, [k, v]);
  const mapDelete = (m, k) => ReflectApply(MapPrototypeDelete, m, [k]);

  // ---- ops: every effect leaves through hostCall(OP) and comes back through complete()
  const pendingOps = new MapCtor();
  function op(kind, a, b, c, d) {
    const id = hostCall(OP, kind, a, b, c, d);
    return new PromiseCtor((resolve, reject) => mapSet(pendingOps, id, [resolve, reject]));
  }
  function complete(id, ok, value) {
    const entry = mapGet(pendingOps, id);
    if (entry === undefined) return;
    mapDelete(pendingOps, id);
    if (ok) entry[0](value);
    else entry[1](value);
  }

  // ---- env: values as given, bindings as stubs whose every method is a host op
  function bindingStub(name) {
    const methods = new MapCtor();
    const handler = {
      __proto__: null,
      get(_target, method) {
        if (typeof method !== "string" || method === "then") return undefined;
        let fn = mapGet(methods, method);
        if (fn === undefined) {
          fn = (...args) => op("binding", name, method, args);
          mapSet(methods, method, fn);
        }
        return fn;
      },
      has: () => true,
      set: () => false,
      defineProperty: () => false,
      deleteProperty: () => false,
      getOwnPropertyDescriptor: () => undefined,
      ownKeys: () => [],
      setPrototypeOf: () => false,
    };
    return new ProxyCtor(ObjectCreate(null), handler);
  }
  let env = {};
  function setEnv(values, bindings) {
    env = values;
    for (let i = 0; i < bindings.length; i++) {
      ObjectDefineProperty(env, bindings[i], { __proto__: null, value: bindingStub(bindings[i]), enumerable: true, configurable: true, writable: true });
    }
  }

  // ---- entrypoints
  let mainPromise;
  let mainNamespace;
  let workerEntrypoint = null; // set when `cloudflare:workers` is first loaded
  function start(promise) {
    mainPromise = then(
      promise,
      (ns) => (mainNamespace = ns),
      (error) => {
        hostCall(START_FAILED, error);
        throw error;
      },
    );
    then(mainPromise, undefined, () => {});
  }
  const RESERVED = ["fetch", "connect", "alarm", "webSocketMessage", "webSocketClose", "webSocketError", "dup", "constructor"];
  function isEntrypointClass(ctor) {
    if (workerEntrypoint === null) return false;
    let p = ctor.prototype;
    while (p !== null && p !== undefined) {
      if (p === workerEntrypoint.prototype) return true;
      p = ObjectGetPrototypeOf(p);
    }
    return false;
  }
  // Finds a method the way workerd's RPC does: inherited through the class
  // chain, never an instance's own property, never from Object.prototype.
  function findMethod(receiver, name, ownAllowed) {
    let holder = ownAllowed ? receiver : ObjectGetPrototypeOf(receiver);
    while (holder !== null && holder !== ObjectPrototype) {
      const d = ObjectGetOwnPropertyDescriptor(holder, name);
      if (d !== undefined) return [true, "value" in d ? d.value : ReflectApply(d.get, receiver, [])];
      holder = ObjectGetPrototypeOf(holder);
    }
    return [false, undefined];
  }
  function rpcMethod(receiver, method, ownAllowed) {
    if (ReflectApply(ArrayPrototypeIncludes, RESERVED, [method])) {
      throw new TypeErrorCtor(`'${method}' is a reserved method and cannot be called over RPC.`);
    }
    const [found, value] = findMethod(receiver, method, ownAllowed);
    if (!found) throw new TypeErrorCtor(`The RPC receiver does not implement the method "${method}".`);
    if (typeof value !== "function") throw new TypeErrorCtor(`"${method}" is not a function.`);
    return value;
  }
  function fetchMethod(receiver, ownAllowed) {
    const fn = findMethod(receiver, "fetch", ownAllowed)[1];
    if (typeof fn !== "function") throw new ErrorCtor("Handler does not export a fetch() function.");
    return fn;
  }
  function makeCtx(props, waits) {
    return {
      __proto__: ObjectPrototype,
      props,
      waitUntil(promise) {
        waits[waits.length] = PromiseResolve(promise);
      },
      passThroughOnException() {},
    };
  }
  async function invoke(entrypoint, request, method, args, props, waits) {
    if (mainNamespace === undefined) await mainPromise;
    const ns = mainNamespace;
    const name = entrypoint === null ? "default" : entrypoint;
    if (!(name in ns)) {
      throw new ErrorCtor(entrypoint === null ? "Worker has no default entrypoint." : `Worker has no such entrypoint: ${name}`);
    }
    const exported = ns[name];
    const ctx = makeCtx(props, waits);
    let receiver;
    let fn;
    let argv;
    if (typeof exported === "function" && isEntrypointClass(exported)) {
      receiver = ReflectConstruct(exported, [ctx, env]);
      if (request !== null) {
        fn = fetchMethod(receiver, false);
        argv = [request];
      } else {
        fn = rpcMethod(receiver, method, false);
        argv = args;
      }
    } else if (exported !== null && typeof exported === "object") {
      receiver = exported;
      if (request !== null) {
        fn = fetchMethod(receiver, true);
        argv = [request, env, ctx];
      } else {
        fn = rpcMethod(receiver, method, true);
        if (args.length !== 1) {
          throw new TypeErrorCtor(
            `Attempted to call RPC function "${method}" with the wrong number of arguments. When calling a top-level handler function that is not declared as part of a class, you must always send exactly one argument. In order to support variable numbers of arguments, the server must use class-based syntax (extending WorkerEntrypoint) instead.`,
          );
        }
        argv = [args[0], env, ctx];
      }
    } else {
      throw new TypeErrorCtor(
        `Failed to start Worker:\nUncaught TypeError: Incorrect type for map entry '${name}': the provided value is not of type 'function or ExportedHandler'.`,
      );
    }
    return await ReflectApply(fn, receiver, argv);
  }
  async function drainWaits(waits) {
    while (waits.length) await PromiseAllSettled(ReflectApply(ArrayPrototypeSplice, waits, [0, waits.length]));
  }
  function finish(callId, waits) {
    if (waits.length === 0) hostCall(FINISHED, callId);
    else then(drainWaits(waits), () => hostCall(FINISHED, callId));
  }
  // `request` is a Request (built by extras) for fetch calls, else null.
  function callEntrypoint(callId, entrypoint, method, args, props, request, responseParts) {
    const waits = [];
    then(
      invoke(entrypoint, request, method, args, props, waits),
      (value) => {
        if (request === null) {
          hostCall(SETTLE, callId, true, value);
          finish(callId, waits);
        } else {
          then(
            responseParts(value),
            (parts) => {
              hostCall(SETTLE_RESPONSE, callId, parts[0], parts[1], parts[2], parts[3]);
              finish(callId, waits);
            },
            (error) => {
              hostCall(SETTLE, callId, false, error);
              finish(callId, waits);
            },
          );
        }
      },
      (error) => {
        hostCall(SETTLE, callId, false, error);
        finish(callId, waits);
      },
    );
  }

  return {
    __proto__: null,
    op,
    then,
    complete,
    setEnv,
    getEnv: () => env,
    defineGlobal,
    setWorkerEntrypoint: (ctor) => (workerEntrypoint = ctor),
    start,
    callEntrypoint,
  };
});
