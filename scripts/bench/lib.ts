/**
 * The library under test. The benchmarks load the compiled `dist/` (what users run; `npm run bench`
 * builds it first) so that tsx's per-function wrappers and on-the-fly compilation are not
 * measured; without `dist/` they fall back to the sources through tsx.
 */
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import type * as Src from "../../src/index.js"

const dist = new URL("../../dist/index.js", import.meta.url)

/** Where the library was loaded from, for the tables' notes. */
export const libSource: string = existsSync(fileURLToPath(dist)) ? "dist/ (compiled by tsc)" : "src/ through tsx"

export const lib: typeof Src = existsSync(fileURLToPath(dist))
  ? ((await import(dist.href)) as typeof Src)
  : await import("../../src/index.js")
