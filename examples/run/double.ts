// A default-exported function: `isola run` calls it with (arg, env, ctx).
export default async function (arg: { n: number }, env: { UNIT?: string }) {
  return { doubled: arg.n * 2, unit: env.UNIT ?? "none" };
}
