// A tiny agent, as an LLM might write it: TypeScript, one entrypoint method.
interface Params {
  x: number;
}

export default {
  async myAgent(params: Params): Promise<{ answer: number; at: string }> {
    console.log("thinking about", params);
    await new Promise((resolve) => setTimeout(resolve, 1));
    return { answer: params.x + 1, at: new URL("/answers?x=" + params.x, "https://example.com").href };
  },
};
