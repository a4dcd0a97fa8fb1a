// The web platform's small globals, loaded the first time a guest touches
// one of them: atob, btoa, crypto (getRandomValues, randomUUID; `subtle`
// loads the Web Crypto chunk), performance and fetch. It is also the
// platform's fetch adapter: the engine builds a fetch handler's Request and
// reads its Response through the functions exported at the end. The large
// chunks (web.js, streams.js, crypto.js) load only when needed.
(function (host, load) {
  "use strict";
  const ObjectCreate = Object.create;
  const ObjectDefineProperty = Object.defineProperty;
  const ObjectPrototype = Object.prototype;
  const StringCtor = String;
  const TypeErrorCtor = TypeError;
  const PromiseCtor = Promise;
  const DateNow = Date.now;
  const { op, then, hidden } = load("isola:core").internals;
  const loadWeb = () => load("isola:web");
  const loadStreams = () => load("isola:streams");

  const timeOrigin = DateNow();
  const performance = ObjectCreate(ObjectPrototype);
  hidden(performance, "timeOrigin", timeOrigin);
  hidden(performance, "now", function now() {
    return DateNow() - timeOrigin;
  });
  const btoa = function btoa(data) {
    if (arguments.length < 1) throw new TypeErrorCtor("Failed to execute 'btoa': 1 argument required, but only 0 present.");
    return host.btoa(StringCtor(data));
  };
  const atob = function atob(data) {
    if (arguments.length < 1) throw new TypeErrorCtor("Failed to execute 'atob': 1 argument required, but only 0 present.");
    return host.atob(StringCtor(data));
  };
  const crypto = ObjectCreate(ObjectPrototype);
  hidden(crypto, "getRandomValues", function getRandomValues(array) {
    return host.getRandomValues(array);
  });
  hidden(crypto, "randomUUID", function randomUUID() {
    return host.randomUUID();
  });
  ObjectDefineProperty(crypto, "subtle", {
    __proto__: null,
    get: function subtle() {
      return load("isola:crypto").subtle;
    },
    enumerable: true,
    configurable: true,
  });

  const fetch = function fetch(input, init) {
    try {
      const w = loadWeb();
      const request = new w.Request(input, init);
      return w.startFetch(request, (method, url, headers, body, redirect) => op("fetch", method, url, headers, body, redirect));
    } catch (e) {
      return PromiseCtor.reject(e);
    }
  };

  // ---- the fetch adapter
  function makeRequest(url, method, headers, body) {
    return new (loadWeb().Request)(url, { method, headers, body });
  }
  // A Request whose body is read from the host chunk by chunk, as call
  // `id`'s client sends it (nothing is read before the guest asks).
  function makeStreamingRequest(url, method, headers, id) {
    const web = loadWeb();
    const body = new (loadStreams().ReadableStream)(
      {
        pull: (controller) =>
          then(op("requestChunk", id), (chunk) => {
            if (chunk === null) controller.close();
            else controller.enqueue(chunk);
          }),
      },
      { highWaterMark: 0 },
    );
    return new web.Request(url, { method, headers, body });
  }
  function responseParts(value) {
    return loadWeb().responseParts(value);
  }
  function wholeResponse(value) {
    return loadWeb().wholeResponse(value);
  }
  // Streams call `id`'s Response to the host: a head op, then one op per
  // chunk, each answered once the host has taken it.
  function streamResponse(id, value) {
    return loadWeb().streamResponse(
      value,
      (status, statusText, headers, bytesOrLength) => op("responseHead", id, status, statusText, headers, bytesOrLength),
      (chunk) => op("responseChunk", id, chunk),
    );
  }
  function makeResponse(status, statusText, headers, body, url) {
    return loadWeb().makeResponse(status, statusText, headers, body, url);
  }

  return {
    __proto__: null,
    performance,
    atob,
    btoa,
    crypto,
    fetch,
    makeRequest,
    makeStreamingRequest,
    responseParts,
    wholeResponse,
    streamResponse,
    makeResponse,
  };
});
