// A parent worker that runs the agent code it receives in a fresh dynamic
// worker per request, with Cloudflare's Worker Loader API.
// Try: curl --data 'export default { myAgent(p) { return { answer: p.q + 1 } } }' http://127.0.0.1:8787/
interface Env {
  GREETING: string;
  LOADER: {
    load(code: unknown): { getEntrypoint(name?: string, options?: unknown): Record<string, (...args: unknown[]) => Promise<unknown>> };
  };
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const worker = env.LOADER.load({
      compatibilityDate: "2026-03-01",
      mainModule: "agent.js",
      modules: { "agent.js": await req.text() },
      env: { GREETING: env.GREETING },
      globalOutbound: null,
      limits: { cpuMs: 50 },
    });
    try {
      return Response.json(await worker.getEntrypoint().myAgent({ q: 1 }));
    } catch (e) {
      const error = e as Error;
      return Response.json({ error: `${error.name}: ${error.message}` }, { status: 400 });
    }
  },
};
