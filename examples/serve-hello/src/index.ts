interface Env {
  GREETING: string;
}

let served = 0;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    served += 1;
    const url = new URL(request.url);
    const name = url.searchParams.get("name") ?? "world";
    return Response.json({ message: `${env.GREETING}, ${name}!`, served });
  },
};
