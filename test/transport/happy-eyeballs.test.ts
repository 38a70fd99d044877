/**
 * Happy Eyeballs (node's `autoSelectFamily`): a host name with both an IPv6 and an IPv4 address
 * reaches a server listening on only one of them. On by default as in node's own clients, off
 * with `Transport.layerNetWith({ autoSelectFamily: false })` or a connect's own option.
 *
 * `localhost` is tried as the machine resolves it; the `*.he.test` names are resolved by a
 * stand-in for `dns.lookup` installed for this file only (every other name goes to the real one),
 * so both address orders are tested whatever /etc/hosts says. No internet: every address is a
 * loopback one.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import dns from "node:dns"
import { HttpClient, Transport } from "../../src/index.js"
import { underlying } from "../../src/transport/node.js"
import { echo, hasIpv6Loopback, httpServer, rawServer } from "../helpers/servers.js"

const ipv6 = await hasIpv6Loopback()

/** Flips an effect that must fail; a success becomes a plain Error (never a socket for vitest to print). */
const fails = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<E, Error, R> =>
  Effect.flip(effect).pipe(Effect.catchAll(() => Effect.fail(new Error("expected a failure, got a success"))))

/** The addresses the machine gives `localhost`. */
const localhostAddresses = await new Promise<ReadonlyArray<string>>((resolve) =>
  dns.lookup("localhost", { all: true }, (err, addresses) => resolve(err ? [] : addresses.map((a) => a.address)))
)

/** Names resolved by the stand-in: IPv6 first (as RFC 8305 sorts them), or IPv4 first. */
const fake: Record<string, ReadonlyArray<dns.LookupAddress>> = {
  "v6-first.he.test": [{ address: "::1", family: 6 }, { address: "127.0.0.1", family: 4 }],
  "v4-first.he.test": [{ address: "127.0.0.1", family: 4 }, { address: "::1", family: 6 }]
}

const realLookup = dns.lookup
beforeAll(() => {
  const lookup = (hostname: string, options: unknown, callback: unknown): void => {
    const addresses = fake[hostname]
    if (addresses === undefined || typeof options !== "object" || options === null || typeof callback !== "function") {
      return (realLookup as (...args: Array<unknown>) => void)(hostname, options, callback)
    }
    const cb = callback as (err: Error | null, address: unknown, family?: number) => void
    const first = addresses[0]!
    process.nextTick(() => ((options as dns.LookupOptions).all === true ? cb(null, addresses) : cb(null, first.address, first.family)))
  }
  ;(dns as { lookup: unknown }).lookup = lookup
})
afterAll(() => {
  ;(dns as { lookup: unknown }).lookup = realLookup
})

const connectVia = (layer: Layer.Layer<Transport.Transport>, options: Transport.ConnectOptions) =>
  Effect.flatMap(Transport.Transport, (t) => t.connect({ timeout: "3 seconds", ...options })).pipe(Effect.provide(layer))

/** Echoes a few bytes over the socket: it really reached the server. */
const roundTrip = (socket: Transport.Socket) =>
  Effect.gen(function* () {
    yield* socket.write("ping")
    const chunk = yield* socket.read({ ms: 2000, phase: "body" })
    return Buffer.from(chunk ?? new Uint8Array()).toString("latin1")
  })

const attempted = (socket: Transport.Socket): ReadonlyArray<string> | undefined =>
  (underlying(socket) as unknown as { autoSelectFamilyAttemptedAddresses?: ReadonlyArray<string> }).autoSelectFamilyAttemptedAddresses

describe("Happy Eyeballs: localhost", () => {
  it.scopedLive.skipIf(!localhostAddresses.includes("127.0.0.1"))("localhost reaches a server bound only to 127.0.0.1", () =>
    Effect.gen(function* () {
      const server = yield* rawServer(echo, "127.0.0.1")
      const socket = yield* connectVia(Transport.layerNet, { host: "localhost", port: server.port })
      expect(yield* roundTrip(socket)).toBe("ping")
      expect(underlying(socket)!.remoteAddress).toBe("127.0.0.1")
    }))

  it.scopedLive.skipIf(!ipv6 || !localhostAddresses.includes("::1"))("localhost reaches a server bound only to ::1", () =>
    Effect.gen(function* () {
      const server = yield* rawServer(echo, "::1")
      const socket = yield* connectVia(Transport.layerNet, { host: "localhost", port: server.port })
      expect(yield* roundTrip(socket)).toBe("ping")
      expect(underlying(socket)!.remoteAddress).toBe("::1")
    }))

  it.live.skipIf(!localhostAddresses.includes("127.0.0.1"))("HttpClient: http://localhost against a server bound only to 127.0.0.1", () =>
    Effect.gen(function* () {
      const server = yield* httpServer((_req, res) => res.end("hi"), "127.0.0.1")
      const client = yield* HttpClient.HttpClient
      const res = yield* client.get(`http://localhost:${server.port}/`)
      expect(yield* res.text).toBe("hi")
    }).pipe(Effect.scoped, Effect.provide(HttpClient.layerWith({ connectTimeout: "3 seconds" }))))

  it.live.skipIf(!ipv6 || !localhostAddresses.includes("::1"))("HttpClient: http://localhost against a server bound only to ::1", () =>
    Effect.gen(function* () {
      const server = yield* httpServer((_req, res) => res.end("hi"), "::1")
      const client = yield* HttpClient.HttpClient
      const res = yield* client.get(`http://localhost:${server.port}/`)
      expect(yield* res.text).toBe("hi")
    }).pipe(Effect.scoped, Effect.provide(HttpClient.layerWith({ connectTimeout: "3 seconds" }))))
})

describe("Happy Eyeballs: a name with both families", () => {
  it.scopedLive("on by default: IPv6 first, refused, then IPv4 connects", () =>
    Effect.gen(function* () {
      const server = yield* rawServer(echo, "127.0.0.1")
      const socket = yield* connectVia(Transport.layerNet, { host: "v6-first.he.test", port: server.port })
      expect(yield* roundTrip(socket)).toBe("ping")
      expect(socket.host).toBe("v6-first.he.test")
      expect(underlying(socket)!.remoteAddress).toBe("127.0.0.1")
      expect(attempted(socket)).toEqual([`::1:${server.port}`, `127.0.0.1:${server.port}`])
    }))

  it.scopedLive.skipIf(!ipv6)("on by default: IPv4 first, refused, then IPv6 connects", () =>
    Effect.gen(function* () {
      const server = yield* rawServer(echo, "::1")
      const socket = yield* connectVia(Transport.layerNet, { host: "v4-first.he.test", port: server.port })
      expect(yield* roundTrip(socket)).toBe("ping")
      expect(underlying(socket)!.remoteAddress).toBe("::1")
    }))

  it.scopedLive("TLS connects race the same way", () =>
    Effect.gen(function* () {
      const server = yield* rawServer(echo, "127.0.0.1")
      // The TCP connect is what is raced: the handshake then fails against an echo server.
      const error = yield* fails(
        Effect.scoped(connectVia(Transport.layerNet, { host: "v6-first.he.test", port: server.port, secure: true }))
      )
      expect(error._tag).toBe("TlsError")
      expect(server.connections()).toBe(1)
    }))

  it.live("layerNetWith({ autoSelectFamily: false }): only the first address is tried", () =>
    Effect.gen(function* () {
      const server = yield* rawServer(echo, "127.0.0.1")
      const error = yield* fails(
        Effect.scoped(connectVia(Transport.layerNetWith({ autoSelectFamily: false }), { host: "v6-first.he.test", port: server.port }))
      )
      expect(error._tag).toBe("ConnectError")
      // ECONNREFUSED on a machine with ::1; without IPv6 the kernel refuses the address itself.
      if (ipv6) expect(error).toMatchObject({ code: "ECONNREFUSED", host: "v6-first.he.test", port: server.port })
      expect(server.connections()).toBe(0)
    }).pipe(Effect.scoped))

  it.scopedLive("a connect's own autoSelectFamily wins over the layer's, both ways", () =>
    Effect.gen(function* () {
      const server = yield* rawServer(echo, "127.0.0.1")
      const on = yield* connectVia(Transport.layerNetWith({ autoSelectFamily: false }), {
        host: "v6-first.he.test",
        port: server.port,
        autoSelectFamily: true
      })
      expect(yield* roundTrip(on)).toBe("ping")
      const off = yield* fails(
        Effect.scoped(connectVia(Transport.layerNet, { host: "v6-first.he.test", port: server.port, autoSelectFamily: false }))
      )
      expect(off._tag).toBe("ConnectError")
    }))

  it.scopedLive("autoSelectFamilyAttemptTimeout below node's 10 ms floor is raised to it, not refused", () =>
    Effect.gen(function* () {
      const server = yield* rawServer(echo, "127.0.0.1")
      for (const layer of [Transport.layerNetWith({ autoSelectFamilyAttemptTimeout: 0 }), Transport.layerNet]) {
        const socket = yield* connectVia(layer, { host: "v6-first.he.test", port: server.port, autoSelectFamilyAttemptTimeout: "1 millis" })
        expect(yield* roundTrip(socket)).toBe("ping")
      }
    }))

  it.live("HttpClient over layerNetWith: on by default, off when asked", () =>
    Effect.gen(function* () {
      const server = yield* httpServer((_req, res) => res.end("hi"), "127.0.0.1")
      const url = `http://v6-first.he.test:${server.port}/`
      const get = (transport: Layer.Layer<Transport.Transport>) =>
        Effect.gen(function* () {
          const client = yield* HttpClient.HttpClient
          return yield* Effect.flatMap(client.get(url), (r) => r.text)
        }).pipe(Effect.scoped, Effect.provide(HttpClient.layerWithoutTransportWith({ connectTimeout: "3 seconds" }).pipe(Layer.provide(transport))))
      expect(yield* get(Transport.layerNetWith({}))).toBe("hi")
      const error = yield* fails(get(Transport.layerNetWith({ autoSelectFamily: false })))
      expect(error._tag).toBe("ConnectError")
    }).pipe(Effect.scoped))
})
