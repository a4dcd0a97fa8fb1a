// A script: top-level code and no handler. `isola run` runs it like
// `deno run`; its import is read from disk, extension optional.
import { wordCount } from "./words";

const text = "isola runs code that AI agents write, safely";
console.log(`${wordCount(text)} words`);
