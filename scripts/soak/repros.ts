/**
 * Minimal reproductions of the defects the soak found, one loopback server and a few requests
 * each: `npx tsx scripts/soak/repros.ts [name ...]` (all by default). Each prints what a correct
 * client does and what happened, and the exit code is 1 when any of them still reproduces.
 *
 * - `trickled-head`: `headersTimeout` is re-armed by every read, so a head trickled a byte at a
 *   time is accepted long after the timeout.
 * - `late-bytes`: bytes a server sends after a 204 (in a write of their own, 1 ms later) are read
 *   as the response of the request the pool hands the socket to next, and every later caller on
 *   that socket gets the response of the one before it. The same bytes in the same write as the
 *   204 are caught (the socket is not reused): that case is checked too, as a control.
 * - `pipelined-interrupt`: with `pipelining: 4`, interrupting a request pipelined behind another
 *   closes the socket they share: the one in front, not interrupted, fails mid-exchange.
 * - `stale-retry-loop`: the "stale kept-alive socket" retry (a reused socket reset before any
 *   response byte) asks for a fresh socket, but a request that waits in the pool's queue is handed
 *   a kept-alive one again, so it retries again: a request the server always resets is sent
 *   hundreds of times, each time closing a healthy idle socket, bounded only by `timeout`.
 * - `reset-cause-lost`: `Wire.contextualize` (and `Wire.write`, `totalTimeout`) rebuild errors
 *   with `new Ctor({ ...error, ... })`; `cause` of an Effect `Data.TaggedError` is not enumerable,
 *   so the copy has `cause: undefined` and a `ConnectionReset` reads "Connection reset: undefined".
 * - `platform-unread`: `PlatformHttpClient` responses whose bodies are never read keep their
 *   pooled connections after the caller dropped them; the next request waits for the pool until
 *   its total timeout.
 */
import * as net from "node:net"
import type { AddressInfo } from "node:net"
import { HttpClient as PlatformClient } from "@effect/platform"
import { Duration, Effect, Exit, Fiber } from "effect"
import { HttpClient, PlatformHttpClient } from "../../src/index.js"

interface Outcome {
  readonly reproduces: boolean
  readonly expected: string
  readonly observed: string
}

/** A raw server answering each connection's requests in order with `answer(path, socket)`. */
const serve = (answer: (path: string, socket: net.Socket) => Promise<void>): Promise<{ url: string; close: () => Promise<void> }> =>
  new Promise((resolve) => {
    const sockets = new Set<net.Socket>()
    const server = net.createServer((socket) => {
      sockets.add(socket)
      socket.setNoDelay(true)
      socket.on("close", () => sockets.delete(socket))
      socket.on("error", () => {})
      let buf = ""
      let chain = Promise.resolve()
      socket.on("data", (d: Buffer) => {
        buf += d.toString("latin1")
        let end: number
        while ((end = buf.indexOf("\r\n\r\n")) >= 0) {
          const head = buf.slice(0, end)
          buf = buf.slice(end + 4)
          const path = head.split(" ")[1] ?? "/"
          chain = chain.then(() => (socket.destroyed ? undefined : answer(path, socket)))
        }
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          })
      })
    })
  })

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const echo = (path: string) => `HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\nx-id: ${path}\r\n\r\n${path}`

const trickledHead = async (): Promise<Outcome> => {
  const head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
  const server = await serve(async (_, socket) => {
    for (const c of head) {
      if (socket.destroyed) return
      socket.write(c)
      await sleep(60)
    }
  })
  try {
    const started = Date.now()
    const exit = await Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      return yield* Effect.scoped(Effect.flatMap(client.get(`${server.url}/`), (res) => res.text))
    }).pipe(Effect.provide(HttpClient.layerWith({ headersTimeout: "1 second", timeout: "10 seconds" })), Effect.exit, Effect.runPromise)
    const ms = Date.now() - started
    const timedOut = Exit.isFailure(exit) && JSON.stringify(exit.cause).includes('"phase":"headers"')
    return {
      reproduces: !timedOut,
      expected: "TimeoutError phase headers after ~1000 ms (headersTimeout: 1 s; the head takes ~2400 ms, one byte every 60 ms)",
      observed: Exit.isSuccess(exit) ? `success ${JSON.stringify(exit.value)} after ${ms} ms` : `failure after ${ms} ms: ${String(exit.cause).slice(0, 200)}`
    }
  } finally {
    await server.close()
  }
}

const lateBytes = async (sameWrite: boolean): Promise<Outcome> => {
  const late = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nx-id: late\r\n\r\nlate"
  const server = await serve(async (path, socket) => {
    if (path !== "/first") {
      socket.write(echo(path))
      return
    }
    if (sameWrite) {
      socket.write(`HTTP/1.1 204 No Content\r\n\r\n${late}`)
      return
    }
    socket.write("HTTP/1.1 204 No Content\r\n\r\n")
    await sleep(1)
    socket.write(late)
  })
  try {
    // One socket; /second and /third wait for it and are handed it in turn.
    const bodies = await Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const get = (path: string) =>
        Effect.scoped(Effect.flatMap(client.get(`${server.url}${path}`), (res) => Effect.map(res.text, (t) => `${path} → ${res.status} ${t === "" ? "(empty)" : t}`)))
      return yield* Effect.all([get("/first"), get("/second"), get("/third")], { concurrency: "unbounded" })
    }).pipe(Effect.provide(HttpClient.layerWith({ maxConnectionsPerOrigin: 1, timeout: "3 seconds" })), Effect.runPromise)
    const want = ["/first → 204 (empty)", "/second → 200 /second", "/third → 200 /third"]
    return {
      reproduces: bodies.join() !== want.join(),
      expected: want.join("; "),
      observed: bodies.join("; ")
    }
  } finally {
    await server.close()
  }
}

const pipelinedInterrupt = async (): Promise<Outcome> => {
  const server = await serve(async (path, socket) => {
    await sleep(150)
    if (!socket.destroyed) socket.write(echo(path))
  })
  try {
    const results = await Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const get = (path: string) => Effect.either(Effect.scoped(Effect.flatMap(client.get(`${server.url}${path}`), (res) => res.text)))
      const a = yield* Effect.fork(get("/a"))
      yield* Effect.sleep("20 millis")
      const b = yield* Effect.fork(get("/b"))
      const c = yield* Effect.fork(get("/c"))
      yield* Effect.sleep("30 millis")
      // /a is waiting for its response; /b and /c are pipelined behind it on the same socket.
      yield* Fiber.interrupt(b)
      return [yield* Fiber.join(a), yield* Fiber.join(c)]
    }).pipe(Effect.provide(HttpClient.layerWith({ maxConnectionsPerOrigin: 1, pipelining: 4, timeout: "3 seconds" })), Effect.runPromise)
    const shown = results.map((r) => (r._tag === "Right" ? r.right : `${r.left._tag}${"beforeResponse" in r.left ? `(beforeResponse ${String(r.left.beforeResponse)})` : ""}`))
    return {
      reproduces: results.some((r) => r._tag === "Left"),
      expected: "/a and /c (on one socket with /b, which is interrupted while /a waits for its response) answered: /a; /c",
      observed: shown.join("; ")
    }
  } finally {
    await server.close()
  }
}

const platformUnread = async (): Promise<Outcome> => {
  const server = await serve(async (path, socket) => {
    socket.write(echo(path))
  })
  try {
    const started = Date.now()
    const exit = await Effect.gen(function* () {
      const client = yield* PlatformClient.HttpClient
      // Two responses looked at (status) and dropped, as `filterStatusOk` users do.
      for (const p of ["/one", "/two"]) {
        const res = yield* client.get(`${server.url}${p}`)
        if (res.status !== 200) return yield* Effect.die("unexpected status")
      }
      const res = yield* client.get(`${server.url}/three`)
      return yield* res.text
    }).pipe(Effect.provide(PlatformHttpClient.layerWith({ maxConnectionsPerOrigin: 2, timeout: Duration.seconds(1) })), Effect.exit, Effect.runPromise)
    const ms = Date.now() - started
    return {
      reproduces: Exit.isFailure(exit),
      expected: "/three answered (the two dropped, unread responses give their connections back, or the pool opens another)",
      observed: Exit.isSuccess(exit) ? `"${exit.value}" after ${ms} ms` : `failure after ${ms} ms: ${String(exit.cause).split("\n")[0]!.slice(0, 200)}`
    }
  } finally {
    await server.close()
  }
}

const staleRetryLoop = async (): Promise<Outcome> => {
  let resets = 0
  const server = await serve(async (path, socket) => {
    if (path === "/reset") {
      resets++
      socket.resetAndDestroy()
      return
    }
    socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
  })
  try {
    const started = Date.now()
    const result = await Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const get = (path: string) => Effect.either(Effect.scoped(Effect.flatMap(client.get(`${server.url}${path}`), (res) => res.text)))
      yield* get("/ok")
      // Other callers keep the two sockets busy, so the retry waits in the queue and is handed a kept-alive one.
      const traffic = Effect.forEach(Array.from({ length: 200 }), () => get("/ok"), { discard: true })
      const [reset] = yield* Effect.all([get("/reset"), traffic, traffic], { concurrency: "unbounded" })
      return reset
    }).pipe(Effect.provide(HttpClient.layerWith({ maxConnectionsPerOrigin: 2 })), Effect.runPromise)
    return {
      reproduces: resets > 2,
      expected: "GET /reset (the server resets every one of them before the head) sent at most twice: once, and once more on a fresh socket; then ConnectionReset",
      observed: `${result._tag === "Left" ? result.left._tag : "success"} after ${Date.now() - started} ms; the server received /reset ${resets} times`
    }
  } finally {
    await server.close()
  }
}

const resetCauseLost = async (): Promise<Outcome> => {
  const server = await serve(async (_, socket) => {
    socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf")
    await sleep(20)
    socket.resetAndDestroy()
  })
  try {
    const exit = await Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      return yield* Effect.scoped(Effect.flatMap(client.get(`${server.url}/`), (res) => res.text))
    }).pipe(Effect.provide(HttpClient.layer), Effect.flip, Effect.runPromise)
    const cause = (exit as { cause?: unknown }).cause
    return {
      reproduces: cause === undefined || exit.message.endsWith("undefined") || exit.message.includes(": undefined"),
      expected: "ConnectionReset with cause the socket's error (read ECONNRESET), message \"Connection reset: read ECONNRESET [GET 127.0.0.1:port]\"",
      observed: `${exit._tag}, cause ${String(cause)}, message "${exit.message}"`
    }
  } finally {
    await server.close()
  }
}

const REPROS: Record<string, () => Promise<Outcome>> = {
  "reset-cause-lost": resetCauseLost,
  "stale-retry-loop": staleRetryLoop,
  "trickled-head": trickledHead,
  "late-bytes": () => lateBytes(false),
  "late-bytes-same-write (control)": () => lateBytes(true),
  "pipelined-interrupt": pipelinedInterrupt,
  "platform-unread": platformUnread
}

const main = async (): Promise<number> => {
  const names = process.argv.slice(2).filter((a) => a !== "--")
  const selected = names.length === 0 ? Object.keys(REPROS) : Object.keys(REPROS).filter((k) => names.some((n) => k.startsWith(n)))
  let any = false
  for (const name of selected) {
    const o = await REPROS[name]!()
    any ||= o.reproduces
    console.log(`${o.reproduces ? "REPRODUCES" : "ok        "} ${name}\n  expected: ${o.expected}\n  observed: ${o.observed}`)
  }
  return any ? 1 : 0
}

const hard = setTimeout(() => {
  console.error("repros: still running after 60 s; giving up")
  process.exit(1)
}, 60_000)
hard.unref()

main().then(
  (code) => {
    process.exitCode = code
    setTimeout(() => process.exit(code), 2_000).unref()
  },
  (e: unknown) => {
    console.error(e)
    process.exit(1)
  }
)
