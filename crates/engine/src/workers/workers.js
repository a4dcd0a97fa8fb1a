// The Workers API's module and globals, loaded on first use:
// `cloudflare:workers` (WorkerEntrypoint, DurableObject, WorkflowEntrypoint,
// RpcTarget, env) and `navigator`. Capability stubs (`env` bindings, Worker
// Loaders, `ctx.exports`) are the bindings chunk (workers/bindings.js).
(function (host, load) {
  "use strict";
  const ObjectCreate = Object.create;
  const ObjectDefineProperty = Object.defineProperty;
  const ObjectFreeze = Object.freeze;
  const ObjectPrototype = Object.prototype;
  const env = host.env();

  class WorkerEntrypoint {
    constructor(ctx, env) {
      this.ctx = ctx;
      this.env = env;
    }
  }
  class DurableObject {
    constructor(ctx, env) {
      this.ctx = ctx;
      this.env = env;
    }
  }
  class WorkflowEntrypoint {
    constructor(ctx, env) {
      this.ctx = ctx;
      this.env = env;
    }
  }
  class RpcTarget {}
  const workersModule = ObjectFreeze({
    __proto__: null,
    WorkerEntrypoint,
    DurableObject,
    WorkflowEntrypoint,
    RpcTarget,
    get env() {
      return env;
    },
  });

  const navigator = ObjectCreate(ObjectPrototype);
  ObjectDefineProperty(navigator, "userAgent", { __proto__: null, value: "Cloudflare-Workers", enumerable: true });

  return { __proto__: null, workersModule, WorkerEntrypoint, RpcTarget, navigator };
});
