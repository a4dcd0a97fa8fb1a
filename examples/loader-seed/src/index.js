import { WorkerEntrypoint } from "cloudflare:workers";
export class ChatRoom extends WorkerEntrypoint { async post(text) { return { room: this.ctx.props.room, posted: text }; } }
export default {
  async fetch(req, env, ctx) {
    const worker = env.LOADER.load({
      compatibilityDate: "2026-03-01", mainModule: "agent.js",
      modules: { "agent.js": await req.text() },
      env: { CHAT_ROOM: ctx.exports.ChatRoom({ props: { room: "r1" } }) },
      globalOutbound: null,
    });
    return Response.json(await worker.getEntrypoint().myAgent({ q: 1 }));
  },
};
