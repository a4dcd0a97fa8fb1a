# workerd side of the comparison: run.py starts
#   workerd serve config.capnp --experimental --socket-addr http=127.0.0.1:PORT
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .parent) ],
  sockets = [ (name = "http", address = "127.0.0.1:8080", http = (), service = "main") ],
);

const parent :Workerd.Worker = (
  modules = [ (name = "parent.js", esModule = embed "parent.js") ],
  compatibilityDate = "2026-03-01",
  compatibilityFlags = ["nodejs_compat", "enable_ctx_exports"],
  bindings = [ (name = "LOADER", workerLoader = (id = "bench")) ],
);
