// Capability stubs in `env`, loaded only by isolates whose env has some:
// - `bindingStub(name)`: a host binding. Every method name is a function
//   whose call becomes one host op; the promise it returns is the answer.
// - `serviceStub(name)`: a service binding (another worker's entrypoint):
//   `fetch()` and RPC methods, whose arguments may carry stubs.
// - `makeStub`/`exportStub`: functions and RpcTargets passed by reference.
// - `workerLoader(name)`: a Worker Loader with Cloudflare's API (`load`,
//   `get`, `WorkerStub.getEntrypoint`); workers are created and called
//   through host ops, so the parent never holds a child's isolate.
(function (host, load) {
  "use strict";
  const ObjectCreate = Object.create;
  const ObjectFreeze = Object.freeze;
  const ProxyCtor = Proxy;
  const MapCtor = Map;
  const PromiseCtor = Promise;
  const StringCtor = String;
  const TypeErrorCtor = TypeError;
  const ErrorCtor = Error;
  const SymbolDispose = Symbol.dispose;
  const ObjectDefineProperty = Object.defineProperty;
  const ReflectApply = Reflect.apply;
  const MapPrototypeGet = Map.prototype.get;
  const MapPrototypeSet = Map.prototype.set;
  const PromisePrototypeThen = Promise.prototype.then;
  const WeakSetCtor = WeakSet;
  const WeakMapCtor = WeakMap;
  const WeakMapSet = WeakMap.prototype.set;
  const WeakMapGet = WeakMap.prototype.get;
  const WeakSetHas = WeakSet.prototype.has;
  const WeakSetAdd = WeakSet.prototype.add;
  const then = (p, onOk, onErr) => ReflectApply(PromisePrototypeThen, p, [onOk, onErr]);
  const op = host.op;

  // A Proxy whose every string property is a function made by `method`
  // (cached), except `then` (stubs are not thenables) and the keys of
  // `fixed` (`fetch`, `Symbol.dispose`).
  function methodProxy(method, fixed) {
    const methods = new MapCtor();
    const handler = {
      __proto__: null,
      get(_target, name) {
        if (fixed !== undefined && name in fixed) return fixed[name];
        if (typeof name !== "string" || name === "then") return undefined;
        let fn = ReflectApply(MapPrototypeGet, methods, [name]);
        if (fn === undefined) {
          fn = method(name);
          ReflectApply(MapPrototypeSet, methods, [name, fn]);
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

  function bindingStub(name) {
    return methodProxy((method) => (...args) => op("binding", name, method, args));
  }

  // Errors from a dynamic worker carry `remote: true`, as workerd's RPC errors do.
  const remote = (error) => {
    if (error !== null && typeof error === "object") {
      try {
        error.remote = true;
      } catch {}
    }
    throw error;
  };

  // `fetch(input, init)` of a service or entrypoint stub: the request as
  // a call descriptor handed to `call`.
  function fetcher(call) {
    return function fetch(input, init = undefined) {
      try {
        const request = new Request(input, init);
        return then(request.arrayBuffer(), (body) => {
          const pairs = [];
          for (const pair of request.headers) pairs[pairs.length] = pair;
          const bytes = request.method === "GET" || request.method === "HEAD" ? undefined : new Uint8Array(body);
          return call(["fetch", request.method, request.url, pairs, bytes]);
        });
      } catch (error) {
        return PromiseCtor.reject(error);
      }
    };
  }

  // A service binding (`[[services]]`, a `ctx.exports` loopback in a
  // child's env): `fetch()` and any RPC method.
  function serviceStub(name) {
    const call = (descriptor) => then(op("callService", name, descriptor), undefined, remote);
    return methodProxy((method) => (...args) => call(["rpc", method, args]), { __proto__: null, fetch: fetcher(call) });
  }

  // Stubs are disposable (`using`, `stub[Symbol.dispose]()`), as in
  // workerd: a disposed stub's calls reject; disposing twice is a no-op.
  const DISPOSED = "RPC stub used after being disposed.";
  const rejectDisposed = () => PromiseCtor.reject(new ErrorCtor(DISPOSED));

  // An entrypoint of a dynamic worker: `fetch(input, init)` and any RPC
  // method. `start()` yields the worker's handle once it is created.
  // An entrypoint holds `start`, as its worker stub does: the worker is
  // released once each of them is disposed or unreachable (see `workerStub`).
  function entrypointStub(start, holder, entrypoint, props, limits) {
    let disposed = false;
    const call = (descriptor) =>
      disposed ? rejectDisposed() : then(then(start(), (worker) => op("callWorker", worker, entrypoint, props, limits, descriptor)), undefined, remote);
    holder.refs++;
    const dispose = function dispose() {
      if (disposed) return;
      disposed = true;
      drop(holder);
    };
    const stub = methodProxy((method) => (...args) => call(["rpc", method, args]), { __proto__: null, fetch: fetcher(call), [SymbolDispose]: dispose });
    dynamicEntrypoints.add(stub);
    return stub;
  }

  // ---- RPC stubs
  // A function or RpcTarget passed as an RPC argument stays here, under an
  // id, until the call that carried it ends (`releaseStubs`); the receiver
  // gets a stub (`makeStub`) whose calls come back through `stubTarget`.
  // `exporters`: the call that passed each one out (calls back into it
  // run as that call, as in workerd).
  const exported = new MapCtor();
  const exporters = new MapCtor();
  let nextExport = 1;
  const MapPrototypeDelete = Map.prototype.delete;
  function exportStub(value, exporter) {
    const id = nextExport++;
    ReflectApply(MapPrototypeSet, exported, [id, value]);
    ReflectApply(MapPrototypeSet, exporters, [id, exporter]);
    return id;
  }
  function releaseStubs(ids) {
    for (let i = 0; i < ids.length; i++) {
      ReflectApply(MapPrototypeDelete, exported, [ids[i]]);
      ReflectApply(MapPrototypeDelete, exporters, [ids[i]]);
    }
  }
  const stubTarget = (id) => ReflectApply(MapPrototypeGet, exported, [id]);
  const stubExporter = (id) => ReflectApply(MapPrototypeGet, exporters, [id]);
  const receivedStubs = new WeakSetCtor();
  const isStub = (value) => ReflectApply(WeakSetHas, receivedStubs, [value]);
  // The call each received stub belongs to; a call the host routes to one
  // (a stub passed on, called back) is made as that call.
  const stubOwners = new WeakMapCtor();
  const stubOwner = (stub) => ReflectApply(WeakMapGet, stubOwners, [stub]);
  // `owner`: the call that received it (only that call's code may use it).
  function makeStub(id, callable, owner) {
    let disposed = false;
    const call = (method, args) => (disposed ? rejectDisposed() : then(op("callStub", id, method, args, owner), undefined, remote));
    const dispose = function dispose() {
      disposed = true;
    };
    let stub;
    if (callable) {
      stub = function (...args) {
        return call(null, args);
      };
      ObjectDefineProperty(stub, SymbolDispose, { value: dispose });
    } else {
      stub = methodProxy((method) => (...args) => call(method, args), { __proto__: null, [SymbolDispose]: dispose });
    }
    ReflectApply(WeakSetAdd, receivedStubs, [stub]);
    ReflectApply(WeakMapSet, stubOwners, [stub, owner]);
    return stub;
  }
  // Entrypoint stubs of dynamic workers: they cannot be handed to another
  // worker, since nothing could reload their worker from scratch.
  const dynamicEntrypoints = new WeakSet();
  const ENTRYPOINT_NOT_TRANSFERABLE =
    "Entrypoints to dynamically-loaded workers cannot be transferred to other Workers, because the system does not know how to reload this Worker from scratch. Instead, have the parent Worker expose an entrypoint which constructs the dynamic worker and forwards to it.";
  function refuseDynamicEntrypoint(value) {
    if (value !== null && (typeof value === "object" || typeof value === "function") && dynamicEntrypoints.has(value)) {
      throw new DOMException(ENTRYPOINT_NOT_TRANSFERABLE, "DataCloneError");
    }
  }

  // ---- ctx.exports: loopbacks to this worker's own entrypoints
  // `ctx.exports.Name({ props })` is a service stub: this worker can call
  // it (methods and `fetch`, which run the entrypoint with those props),
  // and a dynamic worker can hold it in its env and call back through it.
  const loopbacks = new WeakMapCtor();
  const loopbackOf = (value) => (value !== null && typeof value === "object" ? ReflectApply(WeakMapGet, loopbacks, [value]) : undefined);
  function loopbackStub(entrypoint, props) {
    const call = (descriptor) => then(op("callLoopback", entrypoint, props, descriptor), undefined, remote);
    const stub = methodProxy((method) => (...args) => call(["rpc", method, args]), { __proto__: null, fetch: fetcher(call) });
    ReflectApply(WeakMapSet, loopbacks, [stub, [entrypoint, props]]);
    return stub;
  }
  // The factories themselves (`ctx.exports.Name`, not called) cannot go
  // into a child's env, as in workerd.
  const factories = new WeakSet();
  function loopbackExports(namespace, WorkerEntrypoint) {
    const exports = ObjectCreate(null);
    for (const name of Object.keys(namespace)) {
      const value = namespace[name];
      const isClass = typeof value === "function" && WorkerEntrypoint !== undefined && value.prototype instanceof WorkerEntrypoint;
      const isHandler = name === "default" && value !== null && typeof value === "object";
      if (!isClass && !isHandler) continue;
      const entrypoint = name === "default" ? null : name;
      const factory = function (options = undefined) {
        return loopbackStub(entrypoint, options?.props);
      };
      factories.add(factory);
      exports[name] = factory;
    }
    return ObjectFreeze(exports);
  }

  // Splits the capabilities out of code: loopback services in `env` (the
  // plain values are cloned into the child's env, the services become
  // bindings there), a loopback `globalOutbound` (the child's fetches go to
  // it) and `tails` (loopbacks whose `tail(events)` hears of each run).
  function splitEnv(code) {
    const links = { __proto__: null, outbound: loopbackOf(code?.globalOutbound), tails: [] };
    if (links.outbound !== undefined) code = { ...code, globalOutbound: undefined };
    const tails = code?.tails;
    if (tails !== undefined && tails !== null) {
      if (typeof tails !== "object" || typeof tails[Symbol.iterator] !== "function") {
        throw new TypeErrorCtor("Incorrect type for the 'tails' field on 'WorkerLoaderWorkerCode': the provided value is not of type 'Array'.");
      }
      for (const tail of tails) {
        const loopback = loopbackOf(tail);
        if (loopback === undefined) throw new TypeErrorCtor("isola supports ctx.exports.Name({ props }) loopbacks as tails.");
        links.tails[links.tails.length] = loopback;
      }
      code = { ...code, tails: undefined };
    }
    const env = code?.env;
    if (env === null || typeof env !== "object") return [code, [], links];
    const values = {};
    const services = [];
    for (const key of Object.keys(env)) {
      const value = env[key];
      const loopback = loopbackOf(value);
      if (loopback !== undefined) {
        services[services.length] = [key, loopback[0], loopback[1]];
      } else if (refuseDynamicEntrypoint(value), typeof value === "function" && factories.has(value)) {
        throw new DOMException('Could not serialize object of type "LoopbackServiceStub". This type does not support serialization.', "DataCloneError");
      } else {
        values[key] = value;
      }
    }
    return [{ ...code, env: values }, services, links];
  }

  // A dynamic worker is released (its handle dropped on the host, so its
  // isolate can go) once the parent has disposed of its worker stub and
  // every entrypoint, or can no longer reach them. `holder` is what they
  // share: the handle's promise (`created`), the stubs not yet disposed
  // (`refs`: the worker stub, then one per entrypoint), and whether the
  // worker is released.
  const FinalizationRegistryCtor = FinalizationRegistry;
  const released = new FinalizationRegistryCtor((holder) => release(holder));
  function release(holder) {
    if (holder.released) return;
    holder.released = true;
    released.unregister(holder);
    if (holder.created !== undefined) then(holder.created, (worker) => op("releaseWorker", worker), () => {});
  }
  const newHolder = (created) => ({ created, refs: 1, released: false });
  function drop(holder) {
    holder.refs--;
    if (holder.refs === 0) release(holder);
  }

  function workerStub(start, holder) {
    let disposed = false;
    const stub = {
      getEntrypoint(name = undefined, options = undefined) {
        if (disposed) throw new ErrorCtor(DISPOSED);
        const entrypoint = name === undefined || name === null || name === "default" ? null : StringCtor(name);
        const props = options?.props;
        refuseDynamicEntrypoint(props);
        if (props !== null && typeof props === "object") for (const key of Object.keys(props)) refuseDynamicEntrypoint(props[key]);
        return entrypointStub(start, holder, entrypoint, options?.props, options?.limits);
      },
      getDurableObjectClass() {
        throw new TypeErrorCtor("isola does not support Durable Object classes of dynamic workers yet.");
      },
      [SymbolDispose]() {
        if (disposed) return;
        disposed = true;
        drop(holder);
      },
    };
    ObjectFreeze(stub);
    // `start` is what the worker stub and all its entrypoints share, and
    // nothing refers back to them from it: once it is unreachable nobody
    // can call the worker. (Registering the stub itself would free the
    // worker while an entrypoint is still held.)
    released.register(start, holder, holder);
    return stub;
  }

  function workerLoader(binding) {
    const loader = {
      load(code) {
        if (arguments.length < 1) throw new TypeErrorCtor("Failed to execute 'load' on 'WorkerLoader': 1 argument required, but only 0 present.");
        // Shape errors are thrown here, synchronously, as in workerd.
        const [plain, services, links] = splitEnv(code);
        const created = op("loadWorker", binding, null, plain, services, links);
        // A load nobody calls must not report an unhandled rejection.
        then(created, undefined, () => {});
        return workerStub(() => created, newHolder(created));
      },
      get(name, getCode) {
        if (typeof getCode !== "function") throw new TypeErrorCtor("Failed to execute 'get' on 'WorkerLoader': parameter 2 is not of type 'Function'.");
        const key = name === undefined || name === null ? null : StringCtor(name);
        const holder = newHolder(undefined);
        // The callback runs at the first call through the stub, and only on
        // a cache miss; every error surfaces as that call's rejection.
        const start = () =>
          (holder.created ??= (async () => {
            if (key !== null) {
              const cached = await op("loadWorker", binding, key, undefined);
              if (cached !== null) return cached;
            }
            const [plain, services, links] = splitEnv(await getCode());
            return op("loadWorker", binding, key, plain, services, links);
          })());
        return workerStub(start, holder);
      },
    };
    return ObjectFreeze(loader);
  }

  return { __proto__: null, bindingStub, serviceStub, workerLoader, loopbackExports, exportStub, releaseStubs, stubTarget, stubExporter, stubOwner, makeStub, isStub };
});
