// A parent worker that runs @cloudflare/codemode's DynamicWorkerExecutor,
// unchanged, against a small tool set. The test bundles it with esbuild and
// serves it with `isola serve`:
//
//   POST /run               body = the program; answers executor.execute()'s
//                           result as JSON ({result, logs} or {error, logs})
//   POST /run?timeout=MS    the same with a DynamicWorkerExecutor timeout
//   (500 {thrown: {name, message}} when execute() itself rejects)
//
// The same tools, under the same namespace, are served to `isola mcp` by
// upstream.py, so both executors can run the same programs.
import { DynamicWorkerExecutor } from "@cloudflare/codemode";

// Every tool takes one object, as MCP tools do.
const fns = {
  add: ({ a, b }) => a + b,
  echo: (input) => input,
  fail: () => {
    throw new Error("tool exploded");
  },
  profile: ({ id }) => ({
    id,
    name: "Ada",
    tags: ["admin", "ops"],
    address: { city: "London", zip: null },
    active: true,
  }),
  wait: ({ ms, value }) =>
    new Promise((resolve) => setTimeout(() => resolve(value), ms)),
};

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method !== "POST" || url.pathname !== "/run") {
      return new Response("POST /run with a program as the body\n", {
        status: 404,
      });
    }
    const timeout = url.searchParams.get("timeout");
    const executor = new DynamicWorkerExecutor({
      loader: env.LOADER,
      ...(timeout ? { timeout: Number(timeout) } : {}),
    });
    const code = await request.text();
    try {
      const answer = await executor.execute(code, [{ name: "codemode", fns }]);
      console.log(`POST /run: ${"error" in answer ? "error" : "ok"}`);
      return Response.json(answer);
    } catch (error) {
      // execute() itself rejects when the sandbox cannot start or is
      // stopped (a syntax error, a limit): show how, for the test.
      return Response.json(
        { thrown: { name: error.name, message: error.message } },
        { status: 500 },
      );
    }
  },
};
