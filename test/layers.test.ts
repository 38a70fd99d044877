/**
 * One layer naming rule (issue 10): `layer` / `layerWith(options)` are complete, `layerWithoutTransport`
 * needs a `Transport`, `layerConfig` reads options through `Config`; a complete layer uses the
 * `Transport` in context when there is one. The trap this closes: a test that provides
 * `Transport.layerMock` to the complete layer used to dial the network (`ENOTFOUND api.test`).
 *
 * Every request here goes to `api.test`, a name that does not resolve: a request that reached the
 * network would fail with `ConnectError`, never answer with the mock's body.
 */
import { HttpClient as PlatformClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Config, ConfigProvider, Effect, Layer } from "effect"
import { HttpClient, PlatformHttpClient, Transport } from "../src/index.js"
import { httpServer } from "./helpers/servers.js"

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nmock"
const REDIRECT = "HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n"

/** GET http://api.test/ through our client; the body as text. */
const getText = Effect.gen(function* () {
  const client = yield* HttpClient.HttpClient
  const res = yield* client.get("http://api.test/")
  return { status: res.status, text: yield* res.text }
}).pipe(Effect.scoped)

/** The same through @effect/platform's HttpClient. */
const platformGetText = Effect.gen(function* () {
  const res = yield* PlatformClient.get("http://api.test/")
  return { status: res.status, text: yield* res.text }
}).pipe(Effect.scoped)

/** The mock peer's connections opened so far (each request that reached the mock opened one). */
const mockConnections = Effect.map(Transport.MockPeer, (peer) => peer.connections())

describe("one layer naming rule: complete layers take the mock from context", () => {
  it.effect("HttpClient.layer, the mock provided outside: the mock answers", () =>
    Effect.gen(function* () {
      const got = yield* getText.pipe(Effect.provide(HttpClient.layer))
      expect(got).toEqual({ status: 200, text: "mock" })
      expect(yield* mockConnections).toBe(1)
    }).pipe(Effect.provide(Transport.layerMock([OK]))))

  it.effect("HttpClient.layerWith(options) with Layer.provide(Transport.layerMock): the mock answers, with the options", () =>
    Effect.gen(function* () {
      const got = yield* getText.pipe(
        Effect.provide(HttpClient.layerWith({ followRedirects: 1 }).pipe(Layer.provide(Transport.layerMock([REDIRECT, OK]))))
      )
      // followRedirects: 1 came through: the 302 was followed to the mock's second reply
      expect(got).toEqual({ status: 200, text: "mock" })
    }))

  it.effect("HttpClient.layerWithoutTransport needs the mock in its type and uses it", () =>
    Effect.gen(function* () {
      const layer: Layer.Layer<HttpClient.HttpClient, never, Transport.Transport> = HttpClient.layerWithoutTransport
      const got = yield* getText.pipe(Effect.provide(layer.pipe(Layer.provide(Transport.layerMock([OK])))))
      expect(got).toEqual({ status: 200, text: "mock" })
    }))

  it.effect("PlatformHttpClient.layer and layerWith take the mock from context too", () =>
    Effect.gen(function* () {
      const a = yield* platformGetText.pipe(Effect.provide(PlatformHttpClient.layer), Effect.provide(Transport.layerMock([OK])))
      expect(a).toEqual({ status: 200, text: "mock" })
      const b = yield* platformGetText.pipe(
        Effect.provide(PlatformHttpClient.layerWith({ followRedirects: 1 }).pipe(Layer.provide(Transport.layerMock([REDIRECT, OK]))))
      )
      expect(b).toEqual({ status: 200, text: "mock" })
      const c = yield* platformGetText.pipe(
        Effect.provide(PlatformHttpClient.layerWithoutTransport.pipe(Layer.provide(Transport.layerMock([OK]))))
      )
      expect(c).toEqual({ status: 200, text: "mock" })
    }))

  it.effect("without a Transport in context, the complete layer goes to the network (a loopback server)", () =>
    Effect.gen(function* () {
      const server = yield* httpServer((_req, res) => res.end("real"))
      const text = yield* Effect.gen(function* () {
        const client = yield* HttpClient.HttpClient
        const res = yield* client.get(`${server.url}/`)
        return yield* res.text
      }).pipe(Effect.scoped, Effect.provide(HttpClient.layer))
      expect(text).toBe("real")
    }).pipe(Effect.scoped))
})

describe("layerConfig reads the options through Effect Config", () => {
  it.effect("options from a ConfigProvider apply (followRedirects), the mock from context", () =>
    Effect.gen(function* () {
      const layer = HttpClient.layerConfig({ followRedirects: Config.integer("HTTP_FOLLOW_REDIRECTS") })
      const got = yield* getText.pipe(
        Effect.provide(layer),
        Effect.provide(Transport.layerMock([REDIRECT, OK])),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["HTTP_FOLLOW_REDIRECTS", "1"]])))
      )
      expect(got).toEqual({ status: 200, text: "mock" })
    }))

  it.effect("a missing or malformed setting fails the layer with a ConfigError (typed, nothing dialled)", () =>
    Effect.gen(function* () {
      const layer = PlatformHttpClient.layerConfig({ maxConnectionsPerOrigin: Config.integer("HTTP_MAX_CONNECTIONS") })
      const missing = yield* platformGetText.pipe(
        Effect.provide(layer),
        Effect.provide(Transport.layerMock([OK])),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map())),
        Effect.flip
      )
      expect(missing._tag).toBe("ConfigError")
      const malformed = yield* getText.pipe(
        Effect.provide(HttpClient.layerConfig({ maxConnectionsPerOrigin: Config.integer("N") })),
        Effect.provide(Transport.layerMock([OK])),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["N", "many"]]))),
        Effect.flip
      )
      expect(malformed._tag).toBe("ConfigError")
    }))

  it.effect("TLS options from Config are checked when the layer is built (InvalidTlsOptions)", () =>
    Effect.gen(function* () {
      const err = yield* getText.pipe(
        Effect.provide(HttpClient.layerConfig({ tls: Config.succeed({ minVersion: "SSLv3" as never }) })),
        Effect.provide(Transport.layerMock([OK])),
        Effect.flip
      )
      expect(err._tag).toBe("InvalidTlsOptions")
    }))
})
