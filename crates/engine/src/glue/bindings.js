// Binding stubs: `env.NAME` for a host binding. Every method name is a
// function whose call becomes one host op; the promise it returns is the
// host's answer. Loaded only by isolates whose env has bindings.
(function (hostCall) {
  "use strict";
  const OP = 0; // engine/src/host.rs, HOST_FUNCTIONS
  const ObjectCreate = Object.create;
  const ProxyCtor = Proxy;
  const MapCtor = Map;
  const ReflectApply = Reflect.apply;
  const MapPrototypeGet = Map.prototype.get;
  const MapPrototypeSet = Map.prototype.set;
  return function bindingStub(name) {
    const methods = new MapCtor();
    const handler = {
      __proto__: null,
      get(_target, method) {
        if (typeof method !== "string" || method === "then") return undefined;
        let fn = ReflectApply(MapPrototypeGet, methods, [method]);
        if (fn === undefined) {
          fn = (...args) => hostCall(OP, "binding", name, method, args);
          ReflectApply(MapPrototypeSet, methods, [method, fn]);
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
  };
});
