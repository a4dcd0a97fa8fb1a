// A fetch handler: `isola run --fetch URL` sends it one request.
export default {
  async fetch(request) {
    const body = await request.text();
    return Response.json({ method: request.method, type: request.headers.get("content-type"), body });
  },
};
