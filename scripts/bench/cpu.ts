/**
 * CPU cost per request, for A/B comparisons on a noisy machine: `process.cpuUsage()` (user + system)
 * of this process over a fixed number of small GETs, the server in a child process.
 *
 * `tsx scripts/bench/cpu.ts <case> [requests] [lib dir]`, cases: `client16`, `client1`, `conn1`,
 * `undici16`, `undici1`. `lib dir` is a compiled `dist/` (default: this tree's `dist/`), so two trees
 * can be compared in turns. Prints one line: `<case> <µs of CPU per request> <wall req/s>`.
 */
import { Effect } from "effect"
import { Pool } from "undici"
import type * as Src from "../../src/index.js"
import { forkServer } from "./servers.js"

const HOST = "127.0.0.1"
const [which = "client16", countArg = "20000", libDir] = process.argv.slice(2)
const count = Number(countArg)
const dir = libDir ?? new URL("../../dist", import.meta.url).pathname
const lib = (await import(`${dir}/index.js`)) as typeof Src

const server = await forkServer()
const url = `http://${HOST}:${server.port}/`

/** Runs `n` requests split over `c` loops; returns [cpu µs/request, wall req/s]. */
const measure = async (run: (n: number) => Promise<void>, n: number): Promise<[number, number]> => {
  await run(Math.min(n, 3000)) // warm-up
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await run(n)
  const c = process.cpuUsage(c0)
  const wall = performance.now() - t0
  return [(c.user + c.system) / n, (n / wall) * 1000]
}

const oursClient = (c: number) => {
  const { HttpClient, Transport } = lib
  return Effect.gen(function* () {
    const client = yield* HttpClient.make({ maxConnectionsPerOrigin: c, ...(process.env.NO_TRACING === "1" ? { tracing: false } : {}) })
    const one = Effect.scoped(Effect.flatMap(client.get(url), (res) => res.bytes))
    const run = (n: number) =>
      Effect.runPromise(
        Effect.forEach(Array.from({ length: c }, (_, i) => Math.floor(n / c) + (i < n % c ? 1 : 0)), (k) => Effect.repeatN(one, k - 1), {
          concurrency: "unbounded",
          discard: true
        })
      )
    return yield* Effect.promise(() => measure(run, count))
  }).pipe(Effect.scoped, Effect.provide(Transport.layer), Effect.runPromise)
}

const oursConn = () => {
  const { HttpConnection, Transport } = lib
  return Effect.gen(function* () {
    const conn = yield* HttpConnection.make({ host: HOST, port: server.port, timeout: "10 seconds" })
    const one = Effect.zipRight(conn.request("GET", "/"), Effect.flatMap(conn.getResponse, (res) => res.read()))
    const run = (n: number) => Effect.runPromise(Effect.asVoid(Effect.repeatN(one, n - 1)))
    return yield* Effect.promise(() => measure(run, count))
  }).pipe(Effect.scoped, Effect.provide(Transport.layer), Effect.runPromise)
}

const undici = async (c: number) => {
  const pool = new Pool(`http://${HOST}:${server.port}`, { connections: c, pipelining: 1 })
  const run = async (n: number) => {
    let left = n
    const loop = async () => {
      while (left > 0) {
        left--
        const { body } = await pool.request({ path: "/", method: "GET" })
        await body.arrayBuffer()
      }
    }
    await Promise.all(Array.from({ length: c }, loop))
  }
  try {
    return await measure(run, count)
  } finally {
    await pool.close()
  }
}

const cases: Record<string, () => Promise<[number, number]>> = {
  client16: () => oursClient(16),
  client1: () => oursClient(1),
  conn1: oursConn,
  undici16: () => undici(16),
  undici1: () => undici(1)
}
try {
  const run = cases[which]
  if (run === undefined) throw new Error(`unknown case ${which}`)
  const [us, rps] = await run()
  console.log(`${which} ${us.toFixed(1)} µs/req ${Math.round(rps)} req/s`)
} finally {
  await server.close()
}
