// One parent worker, run unchanged by `isola serve` (wrangler.toml) and by
// workerd (config.capnp). Each path is one benchmark scenario:
//   /baseline          the parent alone answers (no dynamic worker)
//   /fresh             env.LOADER.load() of the tiny agent + one RPC call
//   /cached?name=N     env.LOADER.get("agent-N", ...) + one RPC call
// The agent is the project's reference agent (BENCHMARKS.md).
const AGENT = "export default { async myAgent(p) { return p.x + 1 } }";

function agentCode() {
  return {
    compatibilityDate: "2026-03-01",
    mainModule: "agent.js",
    modules: { "agent.js": AGENT },
    globalOutbound: null,
  };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/baseline":
        return new Response("ok");
      case "/fresh": {
        const worker = env.LOADER.load(agentCode());
        const answer = await worker.getEntrypoint().myAgent({ x: 1 });
        return new Response(String(answer));
      }
      case "/cached": {
        const name = url.searchParams.get("name") ?? "0";
        const worker = env.LOADER.get("agent-" + name, agentCode);
        const answer = await worker.getEntrypoint().myAgent({ x: 1 });
        return new Response(String(answer));
      }
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
