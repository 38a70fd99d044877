/**
 * `npm run soak [-- options]`: runs the pooled client (`pipelining: 1` and `4`) and the
 * `PlatformHttpClient` against fault-injecting loopback servers for a bounded time and prints a
 * table; exits with code 1 when a "must be 0" row (wrong responses, untyped defects, hangs, slow
 * heads accepted, garbled requests, sockets open at the end) is not 0.
 *
 * Options (flags win over the environment):
 * - `--duration 60s` (`SOAK_DURATION`): how long requests are started; `90`, `90s`, `1500ms`, `2m`.
 * - `--concurrency 16` (`SOAK_CONCURRENCY`): callers per client.
 * - `--clients pool,pipelined,platform` (`SOAK_CLIENTS`).
 * - `--seed N` (`SOAK_SEED`): replay a request mix.
 * - `--faults "stallHead=20,garbage=0"` (`SOAK_FAULTS`): change fault weights (see
 *   `scripts/soak/faults.ts`); `--only-faults "ok=1,late204=1"` for exactly these;
 *   `--healthy` for healthy responses only (a check of the harness: wrong must be 0 there).
 * - `--actions "interrupt=20"` (`SOAK_ACTIONS`): change caller behaviour weights.
 * - `--late-shape response|body` (`SOAK_LATE_SHAPE`): what the bytes after a 204 / HEAD response
 *   look like, for every client (default: a well-formed response for `pool` and `platform`, plain
 *   bytes for `pipelined`, where a request pipelined behind the 204 cannot tell them apart).
 * - `--late-delay MS` (`SOAK_LATE_DELAY`): send those bytes in a write of their own up to MS ms
 *   after the response instead of in the same write (default 0: same write).
 * - `--by-fault`: also print the outcomes per fault.
 * - `--json`: print the result as JSON (progress still goes to stderr).
 *
 * Everything runs on 127.0.0.1 and stops by itself: each request is bounded by the client's
 * timeouts and a watchdog, the whole run by a hard limit.
 */
import { ACTIONS, DEFAULT_ACTION_WEIGHTS, DEFAULT_FAULT_WEIGHTS, FAULTS, HEALTHY_ONLY, parseWeights } from "./soak/faults.js"
import { renderReport } from "./soak/report.js"
import { CLIENTS, type ClientKind, runSoak, type SoakOptions } from "./soak/run.js"

const usage = "usage: npm run soak -- [--duration 60s] [--concurrency 16] [--clients pool,pipelined,platform] [--seed N] [--faults k=w,...] [--only-faults k=w,...] [--healthy] [--actions k=w,...] [--late-shape response|body] [--late-delay MS] [--by-fault] [--json]"

const fail = (msg: string): never => {
  console.error(`soak: ${msg}\n${usage}`)
  process.exit(2)
}

/** `90` (seconds), `90s`, `1500ms`, `2m`. */
const parseDuration = (s: string): number => {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(s.trim())
  if (m === null) return fail(`bad duration "${s}"`)
  const n = Number(m[1])
  return Math.round(m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000)
}

const argv = process.argv.slice(2).filter((a) => a !== "--")
const BOOLEAN = new Set(["json", "healthy", "by-fault", "help"])
const VALUED = new Set(["duration", "concurrency", "clients", "seed", "faults", "only-faults", "actions", "late-shape", "late-delay"])
const flags = new Map<string, string | true>()
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!
  if (!a.startsWith("--")) fail(`unexpected argument "${a}"`)
  const eq = a.indexOf("=")
  const name = eq > 0 ? a.slice(2, eq) : a.slice(2)
  if (!BOOLEAN.has(name) && !VALUED.has(name)) fail(`unknown option --${name}`)
  if (eq > 0) flags.set(name, a.slice(eq + 1))
  else if (BOOLEAN.has(name)) flags.set(name, true)
  else {
    const v = argv[++i]
    if (v === undefined) fail(`${a} needs a value`)
    flags.set(name, v!)
  }
}
if (flags.has("help")) {
  console.log(usage)
  process.exit(0)
}
const opt = (flag: string, env: string): string | undefined => {
  const v = flags.get(flag)
  return typeof v === "string" ? v : process.env[env] !== undefined && process.env[env] !== "" ? process.env[env] : undefined
}

const durationText = opt("duration", "SOAK_DURATION")
const concurrencyText = opt("concurrency", "SOAK_CONCURRENCY")
const clientsText = opt("clients", "SOAK_CLIENTS")
const seedText = opt("seed", "SOAK_SEED")
const faultsText = opt("faults", "SOAK_FAULTS")
const onlyFaultsText = opt("only-faults", "SOAK_ONLY_FAULTS")
const actionsText = opt("actions", "SOAK_ACTIONS")
const json = flags.has("json")
const lateDelayText = opt("late-delay", "SOAK_LATE_DELAY")
const lateShapeText = opt("late-shape", "SOAK_LATE_SHAPE")

const options: { -readonly [K in keyof SoakOptions]: SoakOptions[K] } = {
  durationMs: durationText !== undefined ? parseDuration(durationText) : 60_000,
  log: (line) => console.error(`[soak ${((performance.now() - t0) / 1000).toFixed(1)}s] ${line}`)
}
if (concurrencyText !== undefined) {
  const n = Number(concurrencyText)
  if (!Number.isInteger(n) || n < 1 || n > 1024) fail(`bad concurrency "${concurrencyText}"`)
  options.concurrency = n
}
if (clientsText !== undefined) {
  const list = clientsText.split(",").map((s) => s.trim()).filter((s) => s !== "")
  for (const c of list) if (!(CLIENTS as ReadonlyArray<string>).includes(c)) fail(`unknown client "${c}"; choose from ${CLIENTS.join(", ")}`)
  options.clients = list as Array<ClientKind>
}
if (seedText !== undefined) {
  const n = Number(seedText)
  if (!Number.isInteger(n)) fail(`bad seed "${seedText}"`)
  options.seed = n
}
if (flags.has("healthy")) options.faultWeights = HEALTHY_ONLY
if (onlyFaultsText !== undefined) {
  const w = parseWeights(onlyFaultsText, FAULTS, DEFAULT_FAULT_WEIGHTS, true)
  options.faultWeights = typeof w === "string" ? fail(w) : w
} else if (faultsText !== undefined) {
  const w = parseWeights(faultsText, FAULTS, options.faultWeights ?? DEFAULT_FAULT_WEIGHTS)
  options.faultWeights = typeof w === "string" ? fail(w) : w
}
if (actionsText !== undefined) {
  const w = parseWeights(actionsText, ACTIONS, DEFAULT_ACTION_WEIGHTS)
  options.actionWeights = typeof w === "string" ? fail(w) : w
}

if (lateDelayText !== undefined) {
  const n = Number(lateDelayText)
  if (!Number.isFinite(n) || n < 0 || n > 1000) fail(`bad late delay "${lateDelayText}"`)
  options.lateDelayMs = n
}
if (lateShapeText !== undefined) {
  if (lateShapeText !== "response" && lateShapeText !== "body") fail(`bad late shape "${lateShapeText}": response or body`)
  const shape = lateShapeText as "response" | "body"
  options.lateShape = { pool: shape, pipelined: shape, platform: shape }
}

const t0 = performance.now()
/** Requests stop after the duration; each is bounded by its watchdog; closing and the grace take seconds. */
const HARD_LIMIT_MS = options.durationMs! + 60_000

const hard = setTimeout(() => {
  console.error(`soak: still running ${HARD_LIMIT_MS / 1000} s after the start; giving up (this is a hang)`)
  process.exit(1)
}, HARD_LIMIT_MS)
hard.unref()

runSoak(options).then(
  (result) => {
    if (json) console.log(JSON.stringify(result, null, 2))
    else console.log(`\n${renderReport(result, { byFault: flags.has("by-fault") })}\n`)
    const code = result.passed ? 0 : 1
    process.exitCode = code
    // Servers and clients are closed by now; a handle left open anyway must not keep us here.
    setTimeout(() => {
      console.error("soak: handles still open 3 s after the end; exiting")
      process.exit(code)
    }, 3_000).unref()
  },
  (e: unknown) => {
    console.error("soak failed:", e)
    process.exit(1)
  }
)
