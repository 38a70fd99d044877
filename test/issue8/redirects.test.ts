/**
 * Issue 8, part 7: redirects with `followRedirects: 5`: bodies that cannot be sent twice stop the
 * chain, 301/302 turn POST into a bodiless GET, 307/308 re-send the body, https → http is followed
 * only with `allowInsecureRedirects`, and credentials do not cross origins.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { HttpClient } from "../../src/index.js"
import * as certs from "../fixtures/certs.js"
import { cannedServer, httpsServer, ok } from "../helpers/servers.js"
import { failureOf, withClient } from "./support.js"

const pathOf = (head: string): string => head.split(" ")[1] ?? "?"
const methodOf = (head: string): string => head.split(" ")[0] ?? "?"
const redirect = (status: number, location: string) =>
  `HTTP/1.1 ${status} Moved\r\nLocation: ${location}\r\nContent-Length: 5\r\n\r\nmoved`

/** `/start` answers `status` to `/next`; anything else gets "METHOD path" back. */
const redirector = (status: number) =>
  cannedServer((head) => (pathOf(head) === "/start" ? redirect(status, "/next") : ok(`${methodOf(head)} ${pathOf(head)}`)))

interface Outcome {
  readonly status: number
  readonly body: string
  readonly url: string
  readonly redirects: number
}

const send = (req: HttpClient.ClientRequest, options: HttpClient.Options = { followRedirects: 5 }) =>
  withClient(
    Effect.flatMap(HttpClient.HttpClient, (c) =>
      Effect.scoped(
        Effect.flatMap(c.request(req), (r) => Effect.map(r.text, (body): Outcome => ({ status: r.status, body, url: r.url, redirects: r.redirects })))
      )
    ),
    options
  )

const hasField = (head: string, name: string) => new RegExp(`\r\n${name}:`, "i").test(head)

describe("redirects: bodies that cannot be sent twice", () => {
  for (const status of [301, 302, 307, 308]) {
    it.scopedLive(`${status} on a PUT whose body is a generator: the ${status} is returned as it is, nothing re-sent`, () =>
      Effect.gen(function* () {
        const server = yield* redirector(status)
        function* body() {
          yield "part1-"
          yield "part2"
        }
        const out = yield* send({ method: "PUT", url: `${server.url}/start`, body: body() })
        expect(out).toMatchObject({ status, body: "moved", redirects: 0, url: `${server.url}/start` })
        expect(server.requests().length).toBe(1)
        expect(server.heads()[0]).toMatch(/^PUT \/start HTTP\/1\.1\r\n/)
        expect(server.bodies()[0]).toContain("part1-")
      }))
  }

  it.scopedLive("303 on a PUT whose body is a generator: followed as a GET without a body", () =>
    Effect.gen(function* () {
      const server = yield* redirector(303)
      function* body() {
        yield "x"
      }
      const out = yield* send({ method: "PUT", url: `${server.url}/start`, body: body() })
      expect(out).toMatchObject({ status: 200, body: "GET /next", redirects: 1 })
      expect(hasField(server.heads()[1] ?? "", "content-length")).toBe(false)
      expect(hasField(server.heads()[1] ?? "", "transfer-encoding")).toBe(false)
    }))
})

describe("redirects: POST on 301 / 302 becomes GET, 307 / 308 re-send the body", () => {
  for (const status of [301, 302]) {
    it.scopedLive(`POST on ${status} → GET without a body`, () =>
      Effect.gen(function* () {
        const server = yield* redirector(status)
        const out = yield* send({
          method: "POST",
          url: `${server.url}/start`,
          body: "hello",
          headers: { "Content-Type": "text/plain", "X-Keep": "k" }
        })
        expect(out).toMatchObject({ status: 200, body: "GET /next", redirects: 1, url: `${server.url}/next` })
        const heads = server.heads()
        expect(heads.length).toBe(2)
        expect(heads[0]).toMatch(/^POST \/start HTTP\/1\.1\r\n/)
        expect(server.bodies()[0]).toBe("hello")
        expect(heads[1]).toMatch(/^GET \/next HTTP\/1\.1\r\n/)
        expect(hasField(heads[1]!, "content-length")).toBe(false)
        expect(hasField(heads[1]!, "transfer-encoding")).toBe(false)
        expect(hasField(heads[1]!, "content-type")).toBe(false)
        expect(heads[1]).toContain("\r\nX-Keep: k\r\n")
        expect(server.bodies()[1]).toBe("")
      }))
  }

  it.scopedLive("POST with a generator body on 302 → GET without a body (nothing needs re-sending)", () =>
    Effect.gen(function* () {
      const server = yield* redirector(302)
      function* body() {
        yield "once"
      }
      const out = yield* send({ method: "POST", url: `${server.url}/start`, body: body() })
      expect(out).toMatchObject({ status: 200, body: "GET /next", redirects: 1 })
      expect(hasField(server.heads()[1] ?? "", "transfer-encoding")).toBe(false)
    }))

  for (const status of [307, 308]) {
    it.scopedLive(`${status} on POST with a string body re-sends method and body`, () =>
      Effect.gen(function* () {
        const server = yield* redirector(status)
        const out = yield* send({ method: "POST", url: `${server.url}/start`, body: "hello", headers: { "Content-Type": "text/plain" } })
        expect(out).toMatchObject({ status: 200, body: "POST /next", redirects: 1 })
        const heads = server.heads()
        expect(heads[1]).toMatch(/^POST \/next HTTP\/1\.1\r\n/)
        expect(heads[1]).toContain("\r\nContent-Length: 5\r\n")
        expect(heads[1]).toContain("\r\nContent-Type: text/plain\r\n")
        expect(server.bodies()).toEqual(["hello", "hello"])
      }))
  }

  it.scopedLive("307 on POST with a Uint8Array body re-sends the same bytes", () =>
    Effect.gen(function* () {
      const server = yield* redirector(307)
      const out = yield* send({ method: "POST", url: `${server.url}/start`, body: new Uint8Array([104, 105]) })
      expect(out).toMatchObject({ status: 200, body: "POST /next" })
      expect(server.bodies()).toEqual(["hi", "hi"])
    }))

  it.scopedLive("more redirects than followRedirects → TooManyRedirects", () =>
    Effect.gen(function* () {
      const server = yield* cannedServer((head) => redirect(302, `/r${Number(pathOf(head).slice(2) || 0) + 1}`))
      const exit = yield* Effect.exit(send({ url: `${server.url}/r0` }, { followRedirects: 2 }))
      expect(failureOf(exit)).toMatchObject({ _tag: "TooManyRedirects", count: 3 })
      expect(server.requests().length).toBe(3)
    }))
})

describe("redirects: https → http", () => {
  const secureRedirector = (to: string) =>
    httpsServer({ key: certs.serverKey, cert: certs.serverCert }, (_req, res) => {
      res.writeHead(302, { Location: to, "Content-Length": "5" })
      res.end("moved")
    })

  it.scopedLive("not followed by default: the 302 is returned, the http server sees nothing", () =>
    Effect.gen(function* () {
      const plain = yield* cannedServer((head) => ok(`plain ${pathOf(head)}`))
      const secure = yield* secureRedirector(`${plain.url}/clear`)
      const out = yield* send({ url: `https://127.0.0.1:${secure.port}/start` }, { followRedirects: 5, tls: { ca: certs.ca } })
      expect(out).toMatchObject({ status: 302, body: "moved", redirects: 0, url: `https://127.0.0.1:${secure.port}/start` })
      expect(plain.connections()).toBe(0)
    }))

  it.scopedLive("followed with allowInsecureRedirects: true", () =>
    Effect.gen(function* () {
      const plain = yield* cannedServer((head) => ok(`plain ${pathOf(head)}`))
      const secure = yield* secureRedirector(`${plain.url}/clear`)
      const out = yield* send(
        { url: `https://127.0.0.1:${secure.port}/start` },
        { followRedirects: 5, tls: { ca: certs.ca }, allowInsecureRedirects: true }
      )
      expect(out).toMatchObject({ status: 200, body: "plain /clear", redirects: 1, url: `${plain.url}/clear` })
      expect(plain.requests().length).toBe(1)
    }))

  it.scopedLive("http → https is followed by default", () =>
    Effect.gen(function* () {
      const target = yield* httpsServer({ key: certs.serverKey, cert: certs.serverCert }, (req, res) => {
        res.writeHead(200, { "Content-Length": String(`tls ${req.url}`.length) })
        res.end(`tls ${req.url}`)
      })
      const plain = yield* cannedServer(() => redirect(301, `https://127.0.0.1:${target.port}/up`))
      const out = yield* send({ url: `${plain.url}/start` }, { followRedirects: 5, tls: { ca: certs.ca } })
      expect(out).toMatchObject({ status: 200, body: "tls /up", redirects: 1 })
    }))
})

describe("redirects: credentials do not cross origins", () => {
  const CREDENTIALS = { Authorization: "Bearer t0ken", Cookie: "sid=1", "Proxy-Authorization": "Basic eA==", "X-Keep": "k", Accept: "text/plain" }

  it.scopedLive("Authorization, Cookie and Proxy-Authorization are dropped on a redirect to another port; other headers kept", () =>
    Effect.gen(function* () {
      const other = yield* cannedServer((head) => ok(`other ${pathOf(head)}`))
      const first = yield* cannedServer(() => redirect(302, `${other.url}/landing`))
      const out = yield* send({ url: `${first.url}/start`, headers: CREDENTIALS })
      expect(out).toMatchObject({ status: 200, body: "other /landing", redirects: 1 })
      const sentFirst = first.heads()[0]!
      expect(sentFirst).toContain("\r\nAuthorization: Bearer t0ken\r\n")
      expect(sentFirst).toContain("\r\nCookie: sid=1\r\n")
      const sentOther = other.heads()[0]!
      expect(hasField(sentOther, "authorization")).toBe(false)
      expect(hasField(sentOther, "cookie")).toBe(false)
      expect(hasField(sentOther, "proxy-authorization")).toBe(false)
      expect(sentOther).toContain("\r\nX-Keep: k\r\n")
      expect(sentOther).toContain("\r\nAccept: text/plain\r\n")
      expect(sentOther).toContain(`\r\nHost: 127.0.0.1:${other.port}\r\n`)
    }))

  it.scopedLive("header names in any case are dropped across origins", () =>
    Effect.gen(function* () {
      const other = yield* cannedServer((head) => ok(`other ${pathOf(head)}`))
      const first = yield* cannedServer(() => redirect(307, `${other.url}/landing`))
      yield* send({ url: `${first.url}/start`, headers: [["AUTHORIZATION", "x"], ["cookie", "y"], ["x-keep", "k"]] })
      const sentOther = other.heads()[0]!
      expect(hasField(sentOther, "authorization")).toBe(false)
      expect(hasField(sentOther, "cookie")).toBe(false)
      expect(sentOther).toContain("\r\nx-keep: k\r\n")
    }))

  it.scopedLive("a same-origin redirect keeps them", () =>
    Effect.gen(function* () {
      const server = yield* redirector(302)
      yield* send({ url: `${server.url}/start`, headers: CREDENTIALS })
      const second = server.heads()[1]!
      expect(second).toMatch(/^GET \/next HTTP\/1\.1\r\n/)
      expect(second).toContain("\r\nAuthorization: Bearer t0ken\r\n")
      expect(second).toContain("\r\nCookie: sid=1\r\n")
      expect(second).toContain("\r\nX-Keep: k\r\n")
    }))

  it.scopedLive("a caller's Host header does not follow the redirect to another origin", () =>
    Effect.gen(function* () {
      const other = yield* cannedServer((head) => ok(`other ${pathOf(head)}`))
      const first = yield* cannedServer(() => redirect(302, `${other.url}/landing`))
      yield* send({ url: `${first.url}/start`, headers: { Host: "custom.example" } })
      const sentOther = other.heads()[0]!
      expect(sentOther).not.toContain("custom.example")
      expect(sentOther).toContain(`\r\nHost: 127.0.0.1:${other.port}\r\n`)
    }))
})

describe("redirects: more bodies that cannot be sent twice, and HEAD", () => {
  it.scopedLive("307 on a POST whose body is a Stream: the 307 is returned as it is", () =>
    Effect.gen(function* () {
      const server = yield* redirector(307)
      const out = yield* send({ method: "POST", url: `${server.url}/start`, body: Stream.make("s1", "s2") })
      expect(out).toMatchObject({ status: 307, body: "moved", redirects: 0 })
      expect(server.requests().length).toBe(1)
    }))

  it.scopedLive("308 on a PUT whose body is an async generator: the 308 is returned as it is", () =>
    Effect.gen(function* () {
      const server = yield* redirector(308)
      async function* body() {
        yield "a"
      }
      const out = yield* send({ method: "PUT", url: `${server.url}/start`, body: body() })
      expect(out).toMatchObject({ status: 308, body: "moved", redirects: 0 })
      expect(server.requests().length).toBe(1)
    }))

  for (const status of [301, 302, 303, 307]) {
    it.scopedLive(`HEAD on ${status} stays HEAD`, () =>
      Effect.gen(function* () {
        const server = yield* cannedServer((head) =>
          pathOf(head) === "/start"
            ? `HTTP/1.1 ${status} Moved\r\nLocation: /next\r\nContent-Length: 5\r\n\r\n`
            : `HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Method: ${methodOf(head)}\r\n\r\n`
        )
        const headers = yield* withClient(
          Effect.flatMap(HttpClient.HttpClient, (c) => Effect.scoped(Effect.map(c.head(`${server.url}/start`), (r) => [r.status, r.headers.get("x-method"), r.redirects]))),
          { followRedirects: 5 }
        )
        expect(headers).toEqual([200, "HEAD", 1])
      }))
  }
})

