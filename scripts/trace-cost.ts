/**
 * `npx tsx scripts/trace-cost.ts`: CPU per request of the pooled client with tracing on (the
 * default) and off, alternating runs in one process against an in-process node:http server
 * (16 callers, small GETs). Prints µs of CPU (user + system, `process.cpuUsage`) per request.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"
import { HttpClient } from "../src/index.js"

const N = Number(process.env.N ?? 10_000)
const ROUNDS = Number(process.env.ROUNDS ?? 4)
const CALLERS = 16

const server = http.createServer((_req, res) => res.end("hello, world!"))
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`

const run = (tracing: boolean) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const one = Effect.scoped(Effect.flatMap(client.get(url), (res) => res.bytes))
    yield* Effect.forEach(Array.from({ length: 500 }), () => one, { concurrency: CALLERS, discard: true })
    const before = process.cpuUsage()
    yield* Effect.forEach(Array.from({ length: N }), () => one, { concurrency: CALLERS, discard: true })
    const used = process.cpuUsage(before)
    return (used.user + used.system) / N
  }).pipe(Effect.provide(HttpClient.layerWith({ tracing, maxConnectionsPerOrigin: CALLERS })))

const results: Record<string, Array<number>> = { on: [], off: [] }
for (let i = 0; i < ROUNDS; i++) {
  for (const tracing of i % 2 === 0 ? [true, false] : [false, true]) {
    results[tracing ? "on" : "off"]!.push(await Effect.runPromise(run(tracing)))
  }
}
const fmt = (xs: Array<number>) => xs.map((x) => x.toFixed(1)).join(", ")
const min = (xs: Array<number>) => Math.min(...xs)
console.log(`tracing on : ${fmt(results.on!)} µs CPU/request (min ${min(results.on!).toFixed(1)})`)
console.log(`tracing off: ${fmt(results.off!)} µs CPU/request (min ${min(results.off!).toFixed(1)})`)
console.log(`cost of the span: ${(min(results.on!) - min(results.off!)).toFixed(1)} µs/request (${(((min(results.on!) / min(results.off!)) - 1) * 100).toFixed(1)}% of the client's own CPU, server included)`)
server.close()
