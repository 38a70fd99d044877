/**
 * `npm start`: a tour of effect-http1 against servers this script starts on 127.0.0.1 (port 0).
 *
 * Sections: a GET and a JSON POST over one HttpConnection, a chunked download read as a Stream,
 * a typed IncompleteRead, a retried request, a TimeoutError, and the pooled HttpClient serving 20
 * concurrent GETs over a few connections. No network access; every server is closed at the end.
 */
import * as http from "node:http"
import * as net from "node:net"
import type { AddressInfo } from "node:net"
import { Effect, Schedule, Stream } from "effect"
import { Http1Error, HttpClient, HttpConnection, Transport } from "../src/index.js"

// ---------------------------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------------------------

const useColor = process.stdout.isTTY === true && process.env.NO_COLOR === undefined
const paint = (code: string, s: string) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s)
let sectionNo = 0
const section = (title: string) => console.log(`\n${paint("1;36", `── ${++sectionNo}. ${title} `.padEnd(78, "─"))}`)
const sent = (s: string) => console.log(`  ${paint("33", "→")} ${s}`)
const got = (s: string) => console.log(`  ${paint("32", "←")} ${s}`)
const note = (s: string) => console.log(`  ${paint("2", s)}`)
const show = (bytes: Uint8Array) => JSON.stringify(Buffer.from(bytes).toString("utf8"))

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

const listen = (server: net.Server): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port))
  })

/** A raw node:net server that tracks its sockets so closing it never waits on a client. */
const rawServer = (onSocket: (socket: net.Socket, index: number) => void) => {
  const sockets = new Set<net.Socket>()
  let count = 0
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
    socket.on("error", () => {})
    onSocket(socket, ++count)
  })
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      if (!server.listening) return resolve()
      server.close(() => resolve())
    })
  return { server, close, connections: () => count }
}

const STREAM_SIZES = [1024, 16_384, 3, 65_536, 512]
const STREAM_TOTAL = STREAM_SIZES.reduce((a, b) => a + b, 0)

/** The main node:http server of the demo. */
const appSockets = new Set<net.Socket>()
const app = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://demo")
  if (req.method === "GET" && url.pathname === "/hello") {
    res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" })
    res.end("Hello from node:http 👋")
    return
  }
  if (req.method === "POST" && url.pathname === "/items") {
    const parts: Array<Buffer> = []
    req.on("data", (c: Buffer) => parts.push(c))
    req.on("end", () => {
      const item = JSON.parse(Buffer.concat(parts).toString("utf8")) as Record<string, unknown>
      res.writeHead(201, { "Content-Type": "application/json", Location: "/items/42" })
      res.end(JSON.stringify({ id: 42, ...item, receivedBytes: Buffer.concat(parts).length }))
    })
    return
  }
  if (url.pathname === "/stream") {
    // No Content-Length: node:http sends the body chunked, one chunk per write.
    res.writeHead(200, { "Content-Type": "application/octet-stream" })
    const sizes = STREAM_SIZES
    let i = 0
    const tick = () => {
      const size = sizes[i++]
      if (size === undefined) return res.end()
      res.write(Buffer.alloc(size, 0x61))
      setTimeout(tick, 15)
    }
    tick()
    return
  }
  if (url.pathname === "/pooled") {
    // A little latency so that concurrent requests need more than one connection.
    setTimeout(() => {
      res.writeHead(200, { "Content-Type": "text/plain" })
      res.end(`socket ${(req.socket as net.Socket & { demoId?: number }).demoId}`)
    }, 20)
    return
  }
  res.writeHead(404).end()
})
let appConnections = 0
app.on("connection", (socket: net.Socket & { demoId?: number }) => {
  socket.demoId = ++appConnections
  appSockets.add(socket)
  socket.on("close", () => appSockets.delete(socket))
})

// A server that promises 100 bytes and sends 40.
const short = rawServer((socket) => {
  socket.once("data", () => {
    socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: text/plain\r\n\r\n")
    socket.end("only forty bytes of the promised hundred")
  })
})
// A server that drops the first two connections as soon as the request arrives.
const flaky = rawServer((socket, index) => {
  socket.once("data", () => {
    if (index <= 2) socket.destroy()
    else {
      const body = `answered on connection ${index}`
      socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)
    }
  })
})
// A server that accepts and never answers.
const stalled = rawServer(() => {})

// ---------------------------------------------------------------------------------------------
// The tour
// ---------------------------------------------------------------------------------------------

/** Sections that went wrong (the demo goes on, and exits with code 1). */
const failures: Array<string> = []

const main = Effect.gen(function* () {
  const appPort = yield* Effect.promise(() => listen(app))

  const [shortPort, flakyPort, stalledPort] = yield* Effect.promise(() =>
    Promise.all([listen(short.server), listen(flaky.server), listen(stalled.server)])
  )
  console.log(paint("1", "effect-http1 demo"))
  note(`node:http server on 127.0.0.1:${appPort}; raw node:net servers on ${shortPort}, ${flakyPort}, ${stalledPort}`)

  // 1. GET ------------------------------------------------------------------------------------
  section("GET with HttpConnection")
  yield* Effect.gen(function* () {
    const conn = yield* HttpConnection.make({ host: "127.0.0.1", port: appPort, timeout: "5 seconds" })
    sent(`GET /hello   (on ${conn.host}:${conn.port})`)
    yield* conn.request("GET", "/hello")
    const res = yield* conn.getResponse
    got(`HTTP/${res.version === 11 ? "1.1" : "1.0"} ${res.status} ${res.reason}`)
    for (const [name, value] of res.headers) got(`${name}: ${value}`)
    const body = yield* res.read()
    got(`body (${body.length} bytes): ${show(body)}`)
    note(`willClose = ${res.willClose}: the connection stays open for the next request`)

    // 2. POST ------------------------------------------------------------------------------------
    section("POST with a JSON body (same connection, kept alive)")
    const payload = JSON.stringify({ name: "widget", tags: ["a", "b"], price: 9.5 })
    sent(`POST /items   Content-Type: application/json   body: ${payload}`)
    yield* conn.request("POST", "/items", { headers: [["Content-Type", "application/json"]], body: payload })
    const created = yield* conn.getResponse
    got(`${created.status} ${created.reason}   Location: ${created.getHeader("location")}`)
    const json = JSON.parse(Buffer.from(yield* created.read()).toString("utf8")) as unknown
    got(`parsed JSON: ${JSON.stringify(json)}`)
  }).pipe(Effect.scoped)

  // 3. Streaming --------------------------------------------------------------------------------
  section("Chunked streaming download through res.stream")
  yield* Effect.gen(function* () {
    const conn = yield* HttpConnection.make({ host: "127.0.0.1", port: appPort })
    sent("GET /stream")
    yield* conn.request("GET", "/stream")
    const res = yield* conn.getResponse
    got(`${res.status} ${res.reason}   Transfer-Encoding: ${res.getHeader("transfer-encoding")}`)
    const sizes: Array<number> = []
    let total = 0
    yield* res.stream.pipe(
      Stream.runForEach((chunk) => {
        sizes.push(chunk.length)
        total += chunk.length
        got(`chunk of ${chunk.length} bytes`)
        // A guard so a faulty stream cannot loop forever: the server sends STREAM_TOTAL bytes.
        return total > STREAM_TOTAL
          ? Effect.dieMessage(`res.stream delivered ${total} bytes; the server sent only ${STREAM_TOTAL}`)
          : Effect.void
      })
    )
    got(`end of body: ${sizes.length} chunks, ${sizes.reduce((a, b) => a + b, 0)} bytes in all`)
    note("chunks are what arrived in each read: the server wrote 1024, 16384, 3, 65536 and 512 bytes")
  }).pipe(
    Effect.scoped,
    Effect.catchAllDefect((defect) =>
      Effect.sync(() => {
        failures.push(`streaming: ${defect instanceof Error ? defect.message : String(defect)}`)
        got(paint("31", `FAILED: ${failures[failures.length - 1]}`))
      })
    )
  )

  // 4. IncompleteRead ---------------------------------------------------------------------------
  section("A body cut short: typed IncompleteRead")
  yield* Effect.gen(function* () {
    const conn = yield* HttpConnection.make({ host: "127.0.0.1", port: shortPort })
    sent("GET /short   (the server announces Content-Length: 100, sends 40 bytes, closes)")
    yield* conn.request("GET", "/short")
    const res = yield* conn.getResponse
    got(`${res.status} ${res.reason}   Content-Length: ${res.getHeader("content-length")}`)
    const body = yield* res.read()
    got(`full body?! ${show(body)}`)
  }).pipe(
    Effect.scoped,
    Effect.catchTag("IncompleteRead", (e) =>
      Effect.sync(() => {
        got(`IncompleteRead caught: partial = ${e.partial.length} bytes ${show(e.partial)}`)
        got(`expected = ${e.expected} more bytes`)
        note(`message: ${e.message}`)
      })
    )
  )

  // 5. Retry ------------------------------------------------------------------------------------
  section("Effect.retry with a Schedule (server drops the first 2 connections)")
  let attempts = 0
  const once = Effect.gen(function* () {
    attempts++
    sent(`attempt ${attempts}: GET /flaky`)
    const conn = yield* HttpConnection.make({ host: "127.0.0.1", port: flakyPort, timeout: "2 seconds" })
    yield* conn.request("GET", "/flaky")
    const res = yield* conn.getResponse
    return Buffer.from(yield* res.read()).toString("utf8")
  }).pipe(
    Effect.scoped,
    Effect.tapError((e) => Effect.sync(() => got(`attempt ${attempts} failed: ${e._tag} (retryable: ${Http1Error.isRetryable(e)})`)))
  )
  const policy = Schedule.exponential("20 millis").pipe(
    Schedule.intersect(Schedule.recurs(4)),
    Schedule.whileInput((e: Http1Error.Http1Error) => Http1Error.isRetryable(e))
  )
  const answer = yield* Effect.retry(once, policy)
  got(`success after ${attempts} attempts: ${JSON.stringify(answer)}`)
  note(`server saw ${flaky.connections()} connections`)

  // 6. Timeout ----------------------------------------------------------------------------------
  section('TimeoutError from a server that never answers (timeout: "300 millis")')
  const started = Date.now()
  yield* Effect.gen(function* () {
    const conn = yield* HttpConnection.make({ host: "127.0.0.1", port: stalledPort, timeout: "300 millis" })
    sent("GET /never")
    yield* conn.request("GET", "/never")
    yield* conn.getResponse
  }).pipe(
    Effect.scoped,
    Effect.catchTag("TimeoutError", (e) =>
      Effect.sync(() => {
        got(`TimeoutError after ${Date.now() - started} ms: phase = "${e.phase}", timeoutMs = ${e.timeoutMs}`)
        note(`message: ${e.message}`)
      })
    )
  )

  // 7. Pool -------------------------------------------------------------------------------------
  section("Pooled HttpClient: 20 concurrent GETs, maxConnectionsPerOrigin: 4")
  const before = appConnections
  const url = `http://127.0.0.1:${appPort}/pooled`
  const bodies = yield* Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    sent(`20 × GET ${url} (each takes ~20 ms on the server)`)
    const t0 = Date.now()
    const results = yield* Effect.forEach(
      Array.from({ length: 20 }, (_, i) => i),
      () => Effect.scoped(Effect.flatMap(client.get(url), (res) => res.text)),
      { concurrency: "unbounded" }
    )
    got(`20 responses in ${Date.now() - t0} ms`)
    for (const s of client.stats()) got(`pool ${s.origin}: open ${s.open}, idle ${s.idle}, pending ${s.pending}`)
    return results
  }).pipe(Effect.provide(HttpClient.layerWith({ maxConnectionsPerOrigin: 4 })))
  const perSocket = new Map<string, number>()
  for (const b of bodies) perSocket.set(b, (perSocket.get(b) ?? 0) + 1)
  got(`server side: ${appConnections - before} connections used for 20 requests`)
  for (const [socket, n] of perSocket) got(`  ${socket}: ${n} requests`)

})

const closeApp = () =>
  Promise.all([
    new Promise<void>((resolve) => {
      for (const s of appSockets) s.destroy()
      if (!app.listening) return resolve()
      app.close(() => resolve())
    }),
    short.close(),
    flaky.close(),
    stalled.close()
  ])

Effect.runPromise(main.pipe(Effect.provide(Transport.layer))).then(
  async () => {
    await closeApp()
    if (failures.length === 0) console.log(`\n${paint("1;32", "demo done")}`)
    else {
      console.log(`\n${paint("1;31", `demo done with ${failures.length} failed section(s):`)}`)
      for (const f of failures) console.log(`  - ${f}`)
      process.exitCode = 1
    }
  },
  async (e: unknown) => {
    console.error("demo failed:", e)
    await closeApp()
    process.exitCode = 1
  }
)
