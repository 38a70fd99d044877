import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Exit, Fiber, Layer, type Scope, Stream } from "effect"
import * as tls from "node:tls"
import * as net from "node:net"
import { afterAll, beforeAll } from "vitest"
import { HttpClient, Transport } from "../../src/index.js"
import * as certs from "../fixtures/certs.js"
import { cannedServer, type CannedFunction, connectProxy, eventually, ok, startServer } from "../helpers/servers.js"

const run = <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient | Scope.Scope>, options?: HttpClient.Options) =>
  Effect.runPromise(Effect.scoped(effect).pipe(Effect.provide(HttpClient.layerWith(options ?? {})))) as Promise<A>

const runExit = <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient | Scope.Scope>, options?: HttpClient.Options) =>
  Effect.runPromiseExit(Effect.scoped(effect).pipe(Effect.provide(HttpClient.layerWith(options ?? {}))))

const failureOf = <A, E>(exit: Exit.Exit<A, E>): any => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const f = exit.cause._tag === "Fail" ? exit.cause.error : (exit.cause as any)
  return f
}

const client = HttpClient.HttpClient

/** The one origin's pool counts; a pool with no socket and no waiter is forgotten (all zero). */
const poolStats = (c: HttpClient.HttpClientService) => c.stats()[0] ?? { origin: "", open: 0, idle: 0, pending: 0 }

/** A loopback server answering every request with `answer(head, index, socket)`. */
const serve = (answer: CannedFunction) => startServer(cannedServer(answer))

describe("HttpClient: basic exchanges", () => {
  let server: Awaited<ReturnType<typeof serve>>
  beforeAll(async () => {
    server = await serve((head) => {
      const path = head.split(" ")[1]!
      if (path === "/json") return ok('{"a":1,"b":[true,null]}', "Content-Type: application/json\r\n")
      if (path === "/notjson") return ok("nope")
      if (path === "/chunked") return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n"
      if (path === "/head") return "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
      if (path === "/echo") return ok(head)
      if (path === "/early") return "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + ok("after hints")
      return ok(`hello ${path}`)
    })
  })
  afterAll(() => server.close())

  it.live("GET returns status, headers and text; the connection is kept", () =>
    Effect.promise(() =>
      run(
        Effect.gen(function* () {
          const c = yield* client
          const a = yield* c.get(`${server.url}/x`)
          expect(a.status).toBe(200)
          expect(a.reason).toBe("OK")
          expect(a.headers.get("content-length")).toBe("8")
          expect(yield* a.text).toBe("hello /x")
          const b = yield* c.get(`${server.url}/y`)
          expect(yield* b.text).toBe("hello /y")
          expect(c.stats()[0]).toMatchObject({ open: 1, idle: 1, pending: 0 })
        })
      )
    ))

  it.live("json, bytes, stream and trailers", () =>
    Effect.promise(() =>
      run(
        Effect.gen(function* () {
          const c = yield* client
          expect(yield* (yield* c.get(`${server.url}/json`)).json).toEqual({ a: 1, b: [true, null] })
          const bytes = yield* (yield* c.get(`${server.url}/x`)).bytes
          expect(Buffer.from(bytes).toString()).toBe("hello /x")
          const chunked = yield* c.get(`${server.url}/chunked`)
          const parts = yield* Stream.runCollect(chunked.stream)
          expect(Buffer.concat([...parts]).toString()).toBe("hello world")
          expect(chunked.trailers?.get("x-sum")).toBe("11")
        })
      )
    ))

  it.live("json on a body that is not JSON fails with DecodeError", () =>
    Effect.promise(async () => {
      const exit = await runExit(Effect.flatMap(Effect.flatMap(client, (c) => c.get(`${server.url}/notjson`)), (r) => r.json))
      expect(failureOf(exit)._tag).toBe("DecodeError")
    }))

  it.live("HEAD has no body even with a Content-Length; 1xx are skipped and recorded", () =>
    Effect.promise(() =>
      run(
        Effect.gen(function* () {
          const c = yield* client
          const h = yield* c.head(`${server.url}/head`)
          expect(h.headers.get("content-length")).toBe("1000")
          expect((yield* h.bytes).length).toBe(0)
          const e = yield* c.get(`${server.url}/early`)
          expect(e.interim.map((i) => i.status)).toEqual([103])
          expect(yield* e.text).toBe("after hints")
          // Both went over the one kept-alive socket.
          expect(c.stats()[0]!.open).toBe(1)
        })
      )
    ))

  it.live("request head: Host, Accept-Encoding, caller headers in order, Content-Length of UTF-8 bodies", () =>
    Effect.promise(async () => {
      const before = server.heads().length
      await run(
        Effect.gen(function* () {
          const c = yield* client
          const r = yield* c.post(`${server.url}/p?q=1`, { headers: [["X-One", "1"], ["x-two", "2"]], body: "héllo" })
          yield* r.drain
          const r2 = yield* c.request({ method: "PUT", url: `${server.url}/s`, body: Stream.make("ab", new Uint8Array([99])) })
          yield* r2.drain
        }),
        // the exact head: no traceparent / b3 (test/tracing.test.ts checks those)
        { tracing: false }
      )
      const [post, put] = server.heads().slice(before)
      expect(post).toBe(
        `POST /p?q=1 HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAccept-Encoding: identity\r\nContent-Length: 6\r\nX-One: 1\r\nx-two: 2\r\n\r\n`
      )
      expect(server.bodies()[before]).toBe(Buffer.from("héllo").toString("latin1"))
      expect(put).toContain("Transfer-Encoding: chunked\r\n")
      expect(server.bodies()[before + 1]).toBe("2\r\nab\r\n1\r\nc\r\n0\r\n\r\n")
    }))

  it.live("invalid input is refused before anything is sent", () =>
    Effect.promise(async () => {
      const before = server.heads().length
      const cases: Array<[HttpClient.ClientRequest, string]> = [
        [{ url: "ftp://127.0.0.1/" }, "InvalidURL"],
        [{ url: "not a url" }, "InvalidURL"],
        [{ url: `${server.url}/`, method: "GE T" }, "InvalidMethod"],
        [{ url: `${server.url}/`, headers: [["X-Bad", "a\r\nInjected: 1"]] }, "InvalidHeader"],
        [{ url: `${server.url}/`, headers: [["Bad Name", "x"]] }, "InvalidHeader"]
      ]
      for (const [req, tag] of cases) {
        const exit = await runExit(Effect.flatMap(client, (c) => c.request(req)))
        expect(failureOf(exit)._tag).toBe(tag)
      }
      expect(server.heads().length).toBe(before)
    }))
})

describe("HttpClient: pooling", () => {
  it.live("many fibers over few connections: no more sockets than allowed, every answer right", () =>
    Effect.promise(async () => {
      const server = await serve((head) => ({ reply: ok(head.split(" ")[1]!), delayMs: 2 }))
      try {
        const answers = await run(
          Effect.gen(function* () {
            const c = yield* client
            return yield* Effect.forEach(
              Array.from({ length: 60 }, (_, i) => i),
              (i) => Effect.scoped(Effect.flatMap(c.get(`${server.url}/r${i}`), (r) => r.text)),
              { concurrency: 20 }
            )
          }),
          { maxConnectionsPerOrigin: 4 }
        )
        expect(answers).toEqual(Array.from({ length: 60 }, (_, i) => `/r${i}`))
        expect(server.connections()).toBe(4)
      } finally {
        await server.close()
      }
    }))

  it.live("maxPending: one request more than the queue holds fails with PoolExhausted", () =>
    Effect.promise(async () => {
      const server = await serve(() => ({ reply: ok("slow"), delayMs: 100 }))
      try {
        const exits = await run(
          Effect.gen(function* () {
            const c = yield* client
            return yield* Effect.forEach(
              [0, 1, 2],
              () => Effect.exit(Effect.scoped(Effect.flatMap(c.get(`${server.url}/`), (r) => r.text))),
              { concurrency: 3 }
            )
          }),
          { maxConnectionsPerOrigin: 1, maxPending: 1 }
        )
        const tags = exits.map((e) => (Exit.isSuccess(e) ? "ok" : failureOf(e)._tag)).sort()
        expect(tags).toEqual(["PoolExhausted", "ok", "ok"])
        const failed = exits.find(Exit.isFailure)!
        expect(failureOf(failed)).toMatchObject({ maxPending: 1, origin: server.url })
      } finally {
        await server.close()
      }
    }))

  it.live("a body not read before the scope closes closes its socket; a read one goes back", () =>
    Effect.promise(async () => {
      const server = await serve(() => ok("x".repeat(10)))
      try {
        await run(
          Effect.gen(function* () {
            const c = yield* client
            yield* Effect.scoped(c.get(`${server.url}/unread`))
            expect(poolStats(c)).toMatchObject({ open: 0, idle: 0 })
            yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/read`), (r) => r.bytes))
            expect(c.stats()[0]).toMatchObject({ open: 1, idle: 1 })
          })
        )
        await Effect.runPromise(eventually(() => server.openConnections() === 0, "server sockets closed"))
        expect(server.connections()).toBe(2)
      } finally {
        await server.close()
      }
    }))

  it.live("Connection: close and HTTP/1.0 answers are not reused", () =>
    Effect.promise(async () => {
      const server = await serve((_, i) =>
        i % 2 === 0 ? "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na" : "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb"
      )
      try {
        await run(
          Effect.gen(function* () {
            const c = yield* client
            for (let i = 0; i < 4; i++) {
              const r = yield* c.get(`${server.url}/`)
              expect(r.willClose).toBe(true)
              yield* r.bytes
            }
          })
        )
        expect(server.connections()).toBe(4)
      } finally {
        await server.close()
      }
    }))

  it.live("maxRequestsPerConnection retires a socket after that many exchanges", () =>
    Effect.promise(async () => {
      const server = await serve(() => ok("k"))
      try {
        await run(
          Effect.gen(function* () {
            const c = yield* client
            for (let i = 0; i < 6; i++) yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/`), (r) => r.bytes))
          }),
          { maxRequestsPerConnection: 2 }
        )
        expect(server.connections()).toBe(3)
      } finally {
        await server.close()
      }
    }))

  it.live("maxIdleTime and the server's Keep-Alive timeout retire idle sockets", () =>
    Effect.promise(async () => {
      const server = await serve((head) =>
        head.includes("/hint") ? ok("h", "Keep-Alive: timeout=1\r\n") : ok("i")
      )
      try {
        await run(
          Effect.gen(function* () {
            const c = yield* client
            yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/idle`), (r) => r.bytes))
            yield* Effect.sleep("150 millis")
            yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/idle`), (r) => r.bytes))
            // timeout=1 s minus the margin: 500 ms of idle time.
            yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/hint`), (r) => r.bytes))
            yield* Effect.sleep("700 millis")
            yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/idle`), (r) => r.bytes))
          }),
          { maxIdleTime: "100 millis" }
        )
        expect(server.connections()).toBe(3)
      } finally {
        await server.close()
      }
    }))

  it.live("an idle socket that received bytes is discarded, never read as a response", () =>
    Effect.promise(async () => {
      // The first answer is followed by a stray response: the socket is poisoned.
      const server = await serve((_, i) => (i === 0 ? ok("first") + ok("STRAY") : ok("second")))
      try {
        const texts = await run(
          Effect.gen(function* () {
            const c = yield* client
            const a = yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/`), (r) => r.text))
            yield* Effect.sleep("50 millis")
            const b = yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/`), (r) => r.text))
            return [a, b]
          })
        )
        expect(texts).toEqual(["first", "second"])
        expect(server.connections()).toBe(2)
      } finally {
        await server.close()
      }
    }))
})

describe("HttpClient: stale connections", () => {
  it.live("a kept-alive socket closed by the server while idle: GET is retried once on a fresh socket", () =>
    Effect.promise(async () => {
      // Each socket answers one request and then closes without saying so (no Connection: close).
      const server = await serve((_, i, socket) => {
        setTimeout(() => socket.destroy(), 20)
        return ok(`n${i}`)
      })
      try {
        const texts = await run(
          Effect.gen(function* () {
            const c = yield* client
            const a = yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/`), (r) => r.text))
            yield* Effect.sleep("60 millis")
            const b = yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/`), (r) => r.text))
            return [a, b]
          })
        )
        expect(texts).toEqual(["n0", "n1"])
      } finally {
        await server.close()
      }
    }))

  it.live("the socket dies as the request is written: GET retried, POST fails flagged reusedConnection", () =>
    Effect.promise(async () => {
      // Second request on a socket: the server closes instead of answering.
      const server = await serve((_, _i, socket) => {
        const n = ((socket as any).served = ((socket as any).served ?? 0) + 1)
        return n === 1 ? ok("first") : { close: true }
      })
      try {
        const get = await run(
          Effect.gen(function* () {
            const c = yield* client
            yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/`), (r) => r.text))
            return yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/`), (r) => r.text))
          })
        )
        expect(get).toBe("first")
        const post = await runExit(
          Effect.gen(function* () {
            const c = yield* client
            yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/`), (r) => r.text))
            return yield* Effect.scoped(Effect.flatMap(c.post(`${server.url}/`, { body: "x" }), (r) => r.text))
          })
        )
        const e = failureOf(post)
        expect(["RemoteDisconnected", "ConnectionReset"]).toContain(e._tag)
        expect(e.reusedConnection).toBe(true)
      } finally {
        await server.close()
      }
    }))
})

describe("HttpClient: timeouts", () => {
  it.live("headersTimeout fires with phase headers", () =>
    Effect.promise(async () => {
      const server = await serve(() => ({}))
      try {
        const exit = await runExit(Effect.flatMap(client, (c) => c.get(`${server.url}/`)), { headersTimeout: "150 millis" })
        expect(failureOf(exit)).toMatchObject({ _tag: "TimeoutError", phase: "headers", timeoutMs: 150 })
        await Effect.runPromise(eventually(() => server.openConnections() === 0, "server sockets closed"))
      } finally {
        await server.close()
      }
    }))

  it.live("bodyTimeout fires with phase body", () =>
    Effect.promise(async () => {
      const server = await serve(() => ({ reply: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc" }))
      try {
        const exit = await runExit(Effect.flatMap(Effect.flatMap(client, (c) => c.get(`${server.url}/`)), (r) => r.bytes), {
          bodyTimeout: "150 millis"
        })
        expect(failureOf(exit)).toMatchObject({ _tag: "TimeoutError", phase: "body" })
        await Effect.runPromise(eventually(() => server.openConnections() === 0, "server sockets closed"))
      } finally {
        await server.close()
      }
    }))

  it.live("timeout bounds the whole exchange with phase total", () =>
    Effect.promise(async () => {
      // Bytes trickle in: no body timeout fires, the total one does.
      const server = await serve((_, _i, socket) => {
        let n = 0
        const t = setInterval(() => {
          if (socket.destroyed || n++ > 50) return clearInterval(t)
          socket.write("a")
        }, 20)
        return "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
      })
      try {
        const started = Date.now()
        const exit = await runExit(Effect.flatMap(Effect.flatMap(client, (c) => c.get(`${server.url}/`)), (r) => r.bytes), {
          timeout: "300 millis",
          bodyTimeout: "1 second"
        })
        expect(failureOf(exit)).toMatchObject({ _tag: "TimeoutError", phase: "total", timeoutMs: 300 })
        expect(Date.now() - started).toBeLessThan(2000)
      } finally {
        await server.close()
      }
    }))

  it.live("connectTimeout covers the TLS handshake (phase connect)", () =>
    Effect.promise(async () => {
      // Accepts TCP, never answers the ClientHello.
      const sockets = new Set<net.Socket>()
      const server = net.createServer((s) => {
        sockets.add(s)
        s.on("error", () => {})
      })
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
      const port = (server.address() as net.AddressInfo).port
      try {
        const exit = await runExit(Effect.flatMap(client, (c) => c.get(`https://127.0.0.1:${port}/`)), {
          connectTimeout: "150 millis"
        })
        expect(failureOf(exit)).toMatchObject({ _tag: "TimeoutError", phase: "connect" })
      } finally {
        for (const s of sockets) s.destroy()
        await new Promise<void>((r) => server.close(() => r()))
      }
    }))

  it.live("interrupting a fiber mid-body closes the socket and frees the slot", () =>
    Effect.promise(async () => {
      const server = await serve((head) =>
        head.includes("/slow") ? { reply: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab" } : ok("fine")
      )
      try {
        const after = await run(
          Effect.gen(function* () {
            const c = yield* client
            const fiber = yield* Effect.fork(Effect.scoped(Effect.flatMap(c.get(`${server.url}/slow`), (r) => r.bytes)))
            yield* Effect.sleep("100 millis")
            yield* Fiber.interrupt(fiber)
            expect(poolStats(c)).toMatchObject({ open: 0, idle: 0 })
            return yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/fast`), (r) => r.text))
          }),
          { maxConnectionsPerOrigin: 1 }
        )
        expect(after).toBe("fine")
        expect(server.connections()).toBe(2)
      } finally {
        await server.close()
      }
    }))

  it.live("retryPolicy retries retryable failures of idempotent requests", () =>
    Effect.promise(async () => {
      let attempts = 0
      const server = await serve(() => (++attempts < 3 ? { close: true } : ok("third time")))
      try {
        const text = await run(
          Effect.flatMap(client, (c) =>
            Effect.scoped(Effect.flatMap(c.get(`${server.url}/`), (r) => r.text)).pipe(Effect.retry(HttpClient.retryPolicy))
          )
        )
        expect(text).toBe("third time")
        expect(attempts).toBe(3)
      } finally {
        await server.close()
      }
    }))
})

describe("HttpClient: redirects", () => {
  it.live("follows 301/302/303/307/308 as configured, 303 turns into GET", () =>
    Effect.promise(async () => {
      const server = await serve((head) => {
        const path = head.split(" ")[1]!
        const method = head.split(" ")[0]!
        const loc = (s: number, to: string) => `HTTP/1.1 ${s} Moved\r\nLocation: ${to}\r\nContent-Length: 3\r\n\r\nbye`
        if (path === "/a") return loc(301, "/b")
        if (path === "/b") return loc(302, "/c")
        if (path === "/c") return loc(307, "/d")
        if (path === "/d") return loc(308, "/end")
        if (path === "/post") return loc(303, "/end")
        if (path === "/loop") return loc(302, "/loop")
        return ok(`${method} ${path}`)
      })
      try {
        await run(
          Effect.gen(function* () {
            const c = yield* client
            const r = yield* c.get(`${server.url}/a`)
            expect(yield* r.text).toBe("GET /end")
            expect(r.redirects).toBe(4)
            expect(r.url).toBe(`${server.url}/end`)
            const p = yield* c.post(`${server.url}/post`, { body: "data" })
            expect(yield* p.text).toBe("GET /end")
            const none = yield* c.request({ url: `${server.url}/a`, followRedirects: 0 })
            expect(none.status).toBe(301)
            const loop = yield* Effect.flip(c.get(`${server.url}/loop`))
            expect(loop).toMatchObject({ _tag: "TooManyRedirects", count: 6 })
          }),
          { followRedirects: 5 }
        )
      } finally {
        await server.close()
      }
    }))

  it.live("Authorization and Cookie are dropped across origins, kept on the same origin", () =>
    Effect.promise(async () => {
      const target = await serve((head) => ok(head))
      const origin = await serve((head) =>
        head.startsWith("GET /same")
          ? `HTTP/1.1 302 Found\r\nLocation: /echo\r\nContent-Length: 0\r\n\r\n`
          : head.startsWith("GET /echo")
            ? ok(head)
            : `HTTP/1.1 302 Found\r\nLocation: ${target.url.replace("127.0.0.1", "localhost")}/x\r\nContent-Length: 0\r\n\r\n`
      )
      try {
        await run(
          Effect.gen(function* () {
            const c = yield* client
            const headers: Array<[string, string]> = [["Authorization", "Bearer s3cret"], ["Cookie", "a=b"], ["X-Keep", "1"]]
            const cross = yield* (yield* c.get(`${origin.url}/cross`, { headers })).text
            expect(cross).not.toContain("Authorization")
            expect(cross).not.toContain("Cookie")
            expect(cross).toContain("X-Keep: 1")
            const same = yield* (yield* c.get(`${origin.url}/same`, { headers })).text
            expect(same).toContain("Authorization: Bearer s3cret")
          }),
          { followRedirects: 3 }
        )
      } finally {
        await target.close()
        await origin.close()
      }
    }))
})

describe("HttpClient: proxies", () => {
  it.live("http URLs go to the proxy in absolute-form with Proxy-Authorization", () =>
    Effect.promise(async () => {
      const origin = await serve((head) => ok(head.split("\r\n")[0]!))
      const proxy = await startServer(connectProxy({ authorization: "Basic dXNlcjpwYXNz" }))
      try {
        const text = await run(Effect.flatMap(Effect.flatMap(client, (c) => c.get(`${origin.url}/via?x=1`)), (r) => r.text), {
          proxy: `http://user:pass@127.0.0.1:${proxy.port}`
        })
        expect(text).toBe(`GET ${origin.url}/via?x=1 HTTP/1.1`)
        expect(proxy.requests()[0]!.head).toContain("Proxy-Authorization: Basic dXNlcjpwYXNz\r\n")
        expect(proxy.requests()[0]!.head).toContain(`Host: 127.0.0.1:${origin.port}\r\n`)
      } finally {
        await origin.close()
        await proxy.close()
      }
    }))

  it.live("https URLs go through a CONNECT tunnel, TLS verified against the target", () =>
    Effect.promise(async () => {
      const server = tls.createServer({ cert: certs.serverCert, key: certs.serverKey }, (s) => {
        s.on("error", () => {})
        s.once("data", () => s.end(ok("secret over tunnel")))
      })
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
      const port = (server.address() as net.AddressInfo).port
      const proxy = await startServer(connectProxy({ authorization: "Basic dXNlcjpwYXNz" }))
      try {
        const text = await run(Effect.flatMap(Effect.flatMap(client, (c) => c.get(`https://localhost:${port}/`)), (r) => r.text), {
          proxy: `http://user:pass@127.0.0.1:${proxy.port}`,
          tls: { ca: certs.ca }
        })
        expect(text).toBe("secret over tunnel")
        expect(proxy.requests()[0]!.head).toMatch(new RegExp(`^CONNECT localhost:${port} HTTP/1.1\r\n`))
        expect(proxy.requests()[0]!.head).toContain("Proxy-Authorization: Basic dXNlcjpwYXNz\r\n")
        const denied = await runExit(Effect.flatMap(client, (c) => c.get(`https://localhost:${port}/`)), {
          proxy: `http://user:wrong@127.0.0.1:${proxy.port}`,
          tls: { ca: certs.ca }
        })
        expect(failureOf(denied)).toMatchObject({ _tag: "TunnelError", status: 407 })
      } finally {
        await proxy.close()
        await new Promise<void>((r) => server.close(() => r()))
      }
    }))

  it.live("proxyFromEnv reads HTTP_PROXY and NO_PROXY through Config", () =>
    Effect.promise(async () => {
      const origin = await serve((head) => ok(head.split("\r\n")[0]!))
      const proxy = await startServer(connectProxy())
      try {
        const provider = (noProxy: string) =>
          ConfigProvider.fromMap(new Map([["HTTP_PROXY", proxy.url], ["NO_PROXY", noProxy]]))
        const get = (noProxy: string) =>
          Effect.runPromise(
            Effect.scoped(Effect.flatMap(Effect.flatMap(client, (c) => c.get(`${origin.url}/p`)), (r) => r.text)).pipe(
              Effect.provide(HttpClient.layerWith({ proxyFromEnv: true })),
              Effect.withConfigProvider(provider(noProxy))
            )
          )
        expect(await get("example.com")).toBe(`GET ${origin.url}/p HTTP/1.1`)
        expect(await get("localhost,127.0.0.1")).toBe("GET /p HTTP/1.1")
      } finally {
        await origin.close()
        await proxy.close()
      }
    }))

  it("NO_PROXY matching", () => {
    expect(HttpClient.bypassesProxy("*", "a.com", 80)).toBe(true)
    expect(HttpClient.bypassesProxy(".example.com", "api.example.com", 80)).toBe(true)
    expect(HttpClient.bypassesProxy("example.com", "api.example.com", 80)).toBe(true)
    expect(HttpClient.bypassesProxy("example.com", "example.com", 443)).toBe(true)
    expect(HttpClient.bypassesProxy("example.com", "badexample.com", 80)).toBe(false)
    expect(HttpClient.bypassesProxy("example.com:8080", "example.com", 80)).toBe(false)
    expect(HttpClient.bypassesProxy("example.com:8080", "example.com", 8080)).toBe(true)
    expect(HttpClient.bypassesProxy("", "example.com", 80)).toBe(false)
    expect(HttpClient.bypassesProxy(undefined, "example.com", 80)).toBe(false)
  })
})

describe("HttpClient: with the mock transport", () => {
  const TestLayer = (replies: Parameters<typeof Transport.layerMock>[0]) => {
    const mock = Transport.layerMock(replies, { keepOpen: true })
    // exact heads below: no traceparent / b3 (test/tracing.test.ts checks those)
    return Layer.merge(HttpClient.layerWithoutTransportWith({ tracing: false }).pipe(Layer.provide(mock)), mock)
  }

  it.live("a user's test: canned answers, recorded requests, no leaked connections", () =>
    Effect.gen(function* () {
      const c = yield* client
      const r = yield* c.get("http://api.test/items")
      expect(yield* r.json).toEqual([1, 2])
      const r2 = yield* c.post("http://api.test/items", { body: "{}", headers: { "content-type": "application/json" } })
      expect(r2.status).toBe(201)
      yield* r2.drain
      const peer = yield* Transport.MockPeer
      expect(peer.requestsText()).toEqual([
        "GET /items HTTP/1.1\r\nHost: api.test\r\nAccept-Encoding: identity\r\n\r\n",
        "POST /items HTTP/1.1\r\nHost: api.test\r\nAccept-Encoding: identity\r\nContent-Length: 2\r\ncontent-type: application/json\r\n\r\n{}"
      ])
      expect(peer.connections()).toBe(1)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        TestLayer([
          "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n[1,2]",
          "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
        ])
      )
    ))

  it.live("a stale pooled connection (mock close) is retried for GET", () =>
    Effect.gen(function* () {
      const c = yield* client
      yield* Effect.scoped(Effect.flatMap(c.get("http://api.test/1"), (r) => r.text))
      const t = yield* Effect.scoped(Effect.flatMap(c.get("http://api.test/2"), (r) => r.text))
      expect(t).toBe("two")
      const peer = yield* Transport.MockPeer
      expect(peer.connections()).toBe(2)
    }).pipe(
      Effect.provide(
        TestLayer(["HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none", Transport.mock.close, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo"])
      )
    ))

  it.live("headers timeout with a stalled mock", () =>
    Effect.gen(function* () {
      const c = yield* client
      const e = yield* Effect.flip(Effect.scoped(c.get("http://api.test/")))
      expect(e).toMatchObject({ _tag: "TimeoutError", phase: "headers" })
    }).pipe(
      Effect.provide(
        Layer.merge(
          HttpClient.layerWithoutTransportWith({ headersTimeout: Duration.millis(50) }).pipe(Layer.provide(Transport.layerMock([Transport.mock.stall]))),
          Layer.empty
        )
      )
    ))
})

describe("HttpClient: pipelining", () => {
  it.live("idempotent requests share one connection in order; answers match requests", () =>
    Effect.promise(async () => {
      // A request that arrives while the answer to the previous one is still pending was pipelined.
      let pipelined = 0
      const server = await serve((head, _i, socket) => {
        const s = socket as any
        const now = Date.now()
        if (s.answerAt !== undefined && s.answerAt > now) pipelined++
        s.answerAt = now + 20
        return { reply: ok(head.split(" ")[1]!), delayMs: 20 }
      })
      try {
        const answers = await run(
          Effect.gen(function* () {
            const c = yield* client
            return yield* Effect.forEach(
              Array.from({ length: 24 }, (_, i) => i),
              (i) => Effect.scoped(Effect.flatMap(c.get(`${server.url}/p${i}`), (r) => r.text)),
              { concurrency: 8 }
            )
          }),
          { maxConnectionsPerOrigin: 2, pipelining: 4 }
        )
        expect(answers).toEqual(Array.from({ length: 24 }, (_, i) => `/p${i}`))
        expect(server.connections()).toBe(2)
        expect(pipelined).toBeGreaterThan(5)
      } finally {
        await server.close()
      }
    }))

  it.live("when a pipelined connection dies, the requests queued on it are retried on a fresh one", () =>
    Effect.promise(async () => {
      // Each connection answers its first request and then closes without a word.
      const server = await serve((head, _i, socket) => {
        if ((socket as any).answered === true) return {}
        ;(socket as any).answered = true
        setTimeout(() => socket.destroy(), 30)
        return { reply: ok(head.split(" ")[1]!), delayMs: 10 }
      })
      try {
        const answers = await run(
          Effect.gen(function* () {
            const c = yield* client
            return yield* Effect.forEach(
              Array.from({ length: 4 }, (_, i) => i),
              (i) => Effect.scoped(Effect.flatMap(c.get(`${server.url}/q${i}`), (r) => r.text)),
              { concurrency: 4 }
            )
          }),
          { maxConnectionsPerOrigin: 1, pipelining: 4 }
        )
        expect(answers).toEqual(["/q0", "/q1", "/q2", "/q3"])
        expect(server.connections()).toBe(4)
      } finally {
        await server.close()
      }
    }))

  it.live("non-idempotent requests are never pipelined", () =>
    Effect.promise(async () => {
      const server = await serve((head) => ({ reply: ok(head.split(" ")[0]!), delayMs: 20 }))
      try {
        const answers = await run(
          Effect.gen(function* () {
            const c = yield* client
            return yield* Effect.forEach(
              [0, 1, 2],
              () => Effect.scoped(Effect.flatMap(c.post(`${server.url}/`, { body: "x" }), (r) => r.text)),
              { concurrency: 3 }
            )
          }),
          { maxConnectionsPerOrigin: 3, pipelining: 4 }
        )
        expect(answers).toEqual(["POST", "POST", "POST"])
        expect(server.connections()).toBe(3)
      } finally {
        await server.close()
      }
    }))
})

describe("HttpClient: request body sources", () => {
  const layerFor = (replies: Parameters<typeof Transport.layerMock>[0]) => {
    const mock = Transport.layerMock(replies, { keepOpen: true })
    return Layer.merge(HttpClient.layerWithoutTransportWith({ tracing: false }).pipe(Layer.provide(mock)), mock)
  }

  it.live("an iterator that throws fails with RequestBodyError, not a defect", () =>
    Effect.gen(function* () {
      const c = yield* client
      function* body() {
        yield "first"
        throw new Error("disk on fire")
      }
      const e = yield* Effect.flip(Effect.scoped(c.post("http://api.test/up", { body: body() })))
      expect(e).toMatchObject({ _tag: "RequestBodyError" })
      expect(String((e as any).cause)).toContain("disk on fire")
    }).pipe(Effect.provide(layerFor([Transport.mock.stall]))))

  it.live("async iterables are sent chunked", () =>
    Effect.gen(function* () {
      const c = yield* client
      async function* body() {
        yield "ab"
        yield new Uint8Array([99, 100])
      }
      const r = yield* c.put("http://api.test/up", { body: body() })
      yield* r.drain
      const peer = yield* Transport.MockPeer
      expect(peer.requestsText()[0]).toMatch(/Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n$/)
    }).pipe(Effect.scoped, Effect.provide(layerFor(["HTTP/1.1 204 No Content\r\n\r\n"]))))
})

describe("HttpConnection: blockSize", () => {
  it.live("chunks of a chunk source larger than blockSize are sent in blockSize pieces", () =>
    Effect.gen(function* () {
      const { HttpConnection } = yield* Effect.promise(() => import("../../src/index.js"))
      const conn = yield* HttpConnection.make({ host: "api.test", blockSize: 4 })
      yield* conn.request("POST", "/b", { body: ["0123456789"] })
      const res = yield* conn.getResponse
      yield* res.drain
      const peer = yield* Transport.MockPeer
      expect(peer.requestsText()[0]).toMatch(/\r\n\r\n4\r\n0123\r\n4\r\n4567\r\n2\r\n89\r\n0\r\n\r\n$/)
    }).pipe(Effect.scoped, Effect.provide(Transport.layerMock(["HTTP/1.1 204 No Content\r\n\r\n"]))))
})

describe("HttpClient: interruptions while queued", () => {
  it.live("waiters interrupted at any moment never leak a slot or a socket", () =>
    Effect.promise(async () => {
      const server = await serve(() => ({ reply: ok("x"), delayMs: 3 }))
      try {
        const after = await run(
          Effect.gen(function* () {
            const c = yield* client
            // 80 requests over 2 sockets, each abandoned after 0–15 ms: many are interrupted while
            // queued, some right as a socket is handed to them, some mid-exchange.
            yield* Effect.forEach(
              Array.from({ length: 80 }, (_, i) => i),
              (i) =>
                Effect.scoped(Effect.flatMap(c.get(`${server.url}/${i}`), (r) => r.bytes)).pipe(
                  Effect.timeout(Duration.millis(i % 16)),
                  Effect.exit
                ),
              { concurrency: 40 }
            )
            const s = poolStats(c)
            expect(s.pending).toBe(0)
            expect(s.open).toBeLessThanOrEqual(2)
            // Every slot is usable again: two requests at once both get through.
            return yield* Effect.all(
              [0, 1].map(() => Effect.scoped(Effect.flatMap(c.get(`${server.url}/after`), (r) => r.text))),
              { concurrency: 2 }
            ).pipe(Effect.timeout("5 seconds"))
          }),
          { maxConnectionsPerOrigin: 2 }
        )
        expect(after).toEqual(["x", "x"])
      } finally {
        await server.close()
      }
    }))
})
