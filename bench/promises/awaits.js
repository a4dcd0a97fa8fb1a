// Promise reactions only: 300,000 awaits, then 20,000 thens settled at once.
// Measures what each reaction costs the engine (BENCHMARKS.md, "The cost of
// carrying each call's I/O context"):
//   /usr/bin/time -v target/release/isola run --no-jail bench/promises/awaits.js
let n = 0;
for (let i = 0; i < 300000; i++) {
  await null;
  n++;
}
const chain = [];
for (let i = 0; i < 20000; i++) chain.push(Promise.resolve(i).then((x) => x + 1));
const settled = await Promise.all(chain);
console.log(n, settled.length);
