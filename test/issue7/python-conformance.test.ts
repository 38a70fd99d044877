/**
 * Issue 7, part A: conformance with CPython's `http.client` (Lib/http/client.py and
 * Lib/test/test_httplib.py), through `HttpConnection` (and `HttpClient` where it builds the same
 * head). Mock transport for exact bytes; loopback servers where a real socket matters (reset).
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { HttpClient, HttpConnection, HttpsConnection, Transport } from "../../src/index.js"
import { connectProxy, eventually, httpServer, ok, rawServer } from "../helpers/servers.js"
import { fails, get, latin1, withMock } from "../helpers/mock.js"




/** The values of every `name` field (any case) in a request head. */
const fieldValues = (request: string, name: string): Array<string> => {
  const head = request.slice(0, request.indexOf("\r\n\r\n"))
  return head
    .split("\r\n")
    .slice(1)
    .filter((l) => l.slice(0, l.indexOf(":")).toLowerCase() === name.toLowerCase())
    .map((l) => l.slice(l.indexOf(":") + 1).trim())
}

/** The pooled client over the mock transport, with the mock's recorder. */
const clientOverMock = (replies: ReadonlyArray<Transport.MockReplyInput>, options: HttpClient.Options = {}) => {
  const mock = Transport.layerMock(replies, { keepOpen: true })
  // Heads are compared byte for byte with HttpConnection's: no traceparent / b3 (see test/tracing.test.ts).
  return Layer.merge(HttpClient.layerWithoutTransportWith({ tracing: false, ...options }).pipe(Layer.provide(mock)), mock) as Layer.Layer<HttpClient.HttpClient | Transport.MockPeer>
}

const ESTABLISHED = "HTTP/1.1 200 Connection established\r\n\r\n"

const WATCHDOG = Duration.seconds(10)
const watchdog = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.timeoutFail(effect, { duration: WATCHDOG, onTimeout: () => new Error("watchdog: the test hung") })

// ---------------------------------------------------------------------------------------------
// A1. setTunnel with a caller Host header
// ---------------------------------------------------------------------------------------------

describe("A1 setTunnel: the CONNECT's Host (Python set_tunnel: Host added only when the caller gave none)", () => {
  for (const name of ["Host", "host", "HOST", "hOsT"]) {
    it.effect(`a caller "${name}" header is the only Host of the CONNECT`, () =>
      Effect.gen(function* () {
        const peer = yield* withMock([ESTABLISHED, ok("through")], () =>
          Effect.gen(function* () {
            const conn = yield* HttpConnection.make({ host: "proxy.local", port: 3128 })
            yield* conn.setTunnel("target.example", 8080, [[name, "custom.example:1234"], ["Proxy-Authorization", "Basic abc"]])
            expect(latin1(yield* (yield* get(conn)).read())).toBe("through")
          }))
        const connect = peer.requestsText()[0]!
        expect(connect.startsWith("CONNECT target.example:8080 HTTP/1.1\r\n")).toBe(true)
        expect(fieldValues(connect, "host")).toEqual(["custom.example:1234"])
        expect(connect).toBe(`CONNECT target.example:8080 HTTP/1.1\r\n${name}: custom.example:1234\r\nProxy-Authorization: Basic abc\r\n\r\n`)
        // The request through the tunnel names the tunnel's target, as Python's putrequest does.
        expect(fieldValues(peer.requestsText()[1]!, "host")).toEqual(["target.example:8080"])
      }))
  }

  it.effect("a record of headers with a lower-case host: one Host, the caller's", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ESTABLISHED, ok("x")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpConnection.make({ host: "proxy.local", port: 3128 })
          yield* conn.setTunnel("target.example", 443, { host: "other.example", "X-Via": "t" })
          yield* (yield* get(conn)).read()
        }))
      expect(fieldValues(peer.requestsText()[0]!, "host")).toEqual(["other.example"])
      expect(fieldValues(peer.requestsText()[0]!, "x-via")).toEqual(["t"])
    }))

  it.effect("without a Host header the CONNECT carries Host: host:port (before the caller's fields)", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ESTABLISHED, ok("x")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpConnection.make({ host: "proxy.local", port: 3128 })
          yield* conn.setTunnel("target.example", 8443, [["Proxy-Authorization", "Basic abc"]])
          yield* (yield* get(conn)).read()
        }))
      expect(peer.requestsText()[0]).toBe(
        "CONNECT target.example:8443 HTTP/1.1\r\nHost: target.example:8443\r\nProxy-Authorization: Basic abc\r\n\r\n"
      )
    }))

  it.effect("without headers at all: Host: host:port, with the default port spelled out", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ESTABLISHED, ok("x")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpConnection.make({ host: "proxy.local", port: 3128 })
          yield* conn.setTunnel("target.example")
          yield* (yield* get(conn)).read()
        }))
      expect(peer.requestsText()[0]).toBe("CONNECT target.example:80 HTTP/1.1\r\nHost: target.example:80\r\n\r\n")
    }))

  it.scopedLive("live: a real proxy sees exactly one Host, the caller's, and the tunnel works", () =>
    watchdog(
      Effect.gen(function* () {
        const target = yield* httpServer((req, res) => res.end(`target saw ${req.headers.host}`))
        const proxy = yield* connectProxy()
        const conn = yield* HttpConnection.make({ host: proxy.host, port: proxy.port, timeout: "5 seconds" })
        yield* conn.setTunnel("127.0.0.1", target.port, [["HOST", "tunnel.example"]])
        yield* conn.request("GET", "/")
        expect(yield* (yield* conn.getResponse).text).toBe(`target saw 127.0.0.1:${target.port}`)
        const record = proxy.requests()[0]!
        expect(record.line).toBe(`CONNECT 127.0.0.1:${target.port} HTTP/1.1`)
        expect(record.headers.filter(([k]) => k.toLowerCase() === "host")).toEqual([["HOST", "tunnel.example"]])
      }).pipe(Effect.provide(Transport.layer))
    ))
})

// ---------------------------------------------------------------------------------------------
// A2. Host from an absolute-form URL
// ---------------------------------------------------------------------------------------------

describe("A2 request() with an absolute-form URL: Host is its authority (Python putrequest: urlsplit(url).netloc)", () => {
  const hostOf = (url: string, headers?: HttpConnection.RequestOptions["headers"]) =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("x")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpConnection.make({ host: "proxy.local", port: 3128 })
          yield* (yield* get(conn, url, headers === undefined ? undefined : { headers })).read()
        }))
      const request = peer.requestsText()[0]!
      expect(request.startsWith(`GET ${url} HTTP/1.1\r\n`)).toBe(true)
      return fieldValues(request, "host")
    })

  it.effect("http://[fe80::%2]/foo → Host: [fe80::] (zone id stripped, Python _strip_ipv6_iface)", () =>
    Effect.gen(function* () {
      expect(yield* hostOf("http://[fe80::%2]/foo")).toEqual(["[fe80::]"])
    }))

  it.effect("http://[fe80::1%25eth0]/foo → Host: [fe80::1] (percent-encoded zone id)", () =>
    Effect.gen(function* () {
      expect(yield* hostOf("http://[fe80::1%25eth0]/foo")).toEqual(["[fe80::1]"])
    }))

  it.effect("http://example.org:8080/x → Host: example.org:8080", () =>
    Effect.gen(function* () {
      expect(yield* hostOf("http://example.org:8080/x")).toEqual(["example.org:8080"])
    }))

  it.effect("https://example.org/x?q=1 → Host: example.org", () =>
    Effect.gen(function* () {
      expect(yield* hostOf("https://example.org/x?q=1")).toEqual(["example.org"])
    }))

  it.effect("a caller Host header still wins (one Host, the caller's)", () =>
    Effect.gen(function* () {
      expect(yield* hostOf("http://example.org:8080/x", [["Host", "override.example"]])).toEqual(["override.example"])
      expect(yield* hostOf("http://[fe80::%2]/foo", { host: "lower.example" })).toEqual(["lower.example"])
    }))

  it.effect("putRequest with an absolute-form URL builds the same Host as request()", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("x")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpConnection.make({ host: "proxy.local", port: 3128 })
          yield* conn.putRequest("GET", "http://[fe80::%2]/foo")
          yield* conn.endHeaders()
          yield* (yield* conn.getResponse).read()
        }))
      expect(fieldValues(peer.requestsText()[0]!, "host")).toEqual(["[fe80::]"])
    }))

  it.effect("connection hosts with a zone id (Python test_ipv6host_header): [fe80::%2] → [fe80::], [fe80::%2]:81 → [fe80::]:81", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("a"), ok("b")], () =>
        Effect.gen(function* () {
          const a = yield* HttpConnection.make({ host: "[fe80::%2]" })
          yield* (yield* get(a, "/foo")).read()
          const b = yield* HttpConnection.make({ host: "[fe80::%2]:81" })
          yield* (yield* get(b, "/foo")).read()
        }))
      expect(peer.requestsText()[0]).toBe("GET /foo HTTP/1.1\r\nHost: [fe80::]\r\nAccept-Encoding: identity\r\n\r\n")
      expect(peer.requestsText()[1]).toBe("GET /foo HTTP/1.1\r\nHost: [fe80::]:81\r\nAccept-Encoding: identity\r\n\r\n")
    }))
})

// ---------------------------------------------------------------------------------------------
// A3. HTTP/1.0 Keep-Alive
// ---------------------------------------------------------------------------------------------

describe("A3 HTTP/1.0 responses: a Keep-Alive header keeps the connection (Python _check_close)", () => {
  it.effect("Keep-Alive: timeout=5 alone (no Connection header) → willClose false, the next request on the same socket", () =>
    Effect.gen(function* () {
      const peer = yield* withMock(["HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 3\r\n\r\none", ok("two")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpConnection.make({ host: "example.com" })
          const a = yield* get(conn)
          expect(a.version).toBe(10)
          expect(a.willClose).toBe(false)
          expect(latin1(yield* a.read())).toBe("one")
          expect(conn.isConnected()).toBe(true)
          const b = yield* get(conn)
          expect(latin1(yield* b.read())).toBe("two")
        }))
      expect(peer.connections()).toBe(1)
      expect(peer.requestsText()).toHaveLength(2)
    }))

  it.effect("Keep-Alive with Connection: close → willClose true, the next request on a new socket", () =>
    Effect.gen(function* () {
      const peer = yield* withMock(
        ["HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5\r\nConnection: close\r\nContent-Length: 3\r\n\r\none", ok("two")],
        () =>
          Effect.gen(function* () {
            const conn = yield* HttpConnection.make({ host: "example.com" })
            const a = yield* get(conn)
            expect(a.willClose).toBe(true)
            expect(latin1(yield* a.read())).toBe("one")
            expect(latin1(yield* (yield* get(conn)).read())).toBe("two")
          }),
        { keepOpen: true }
      )
      expect(peer.connections()).toBe(2)
    }))

  it.effect("HTTP/1.0 without Keep-Alive nor Connection: keep-alive → willClose true", () =>
    Effect.gen(function* () {
      const peer = yield* withMock(["HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\none", ok("two")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpConnection.make({ host: "example.com" })
          const a = yield* get(conn)
          expect(a.willClose).toBe(true)
          yield* a.read()
          yield* (yield* get(conn)).read()
        }), { keepOpen: true })
      expect(peer.connections()).toBe(2)
    }))

  it.effect("HTTP/1.0 Keep-Alive without a length (close-delimited body) still closes (Python: length None → will_close)", () =>
    withMock(["HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5\r\n\r\nuntil close"], () =>
      Effect.gen(function* () {
        const conn = yield* HttpConnection.make({ host: "example.com" })
        const a = yield* get(conn)
        expect(a.willClose).toBe(true)
        expect(latin1(yield* a.read())).toBe("until close")
      })))
})

// ---------------------------------------------------------------------------------------------
// A4. IDNA tunnel hosts
// ---------------------------------------------------------------------------------------------

describe("A4 setTunnel with a Unicode host: sent in its IDNA form (Python: tunnel_host.encode('idna'))", () => {
  it.effect("HttpConnection.setTunnel('bücher.example', 443): CONNECT and both Hosts in IDNA", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ESTABLISHED, ok("x")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpConnection.make({ host: "proxy.local", port: 3128 })
          yield* conn.setTunnel("bücher.example", 443)
          yield* (yield* get(conn)).read()
        }))
      expect(peer.requestsText()[0]).toBe("CONNECT xn--bcher-kva.example:443 HTTP/1.1\r\nHost: xn--bcher-kva.example:443\r\n\r\n")
      // Port 443 is not HttpConnection's default (80): it is in the request's Host.
      expect(fieldValues(peer.requestsText()[1]!, "host")).toEqual(["xn--bcher-kva.example:443"])
    }))

  it.effect("HttpsConnection.setTunnel('bücher.example'): default port 443, CONNECT in IDNA, TLS to the IDNA name", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ESTABLISHED, ok("x")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpsConnection.make({ host: "proxy.local", port: 3128 })
          yield* conn.setTunnel("bücher.example")
          yield* (yield* get(conn)).read()
        }))
      expect(peer.requestsText()[0]).toBe("CONNECT xn--bcher-kva.example:443 HTTP/1.1\r\nHost: xn--bcher-kva.example:443\r\n\r\n")
      expect(fieldValues(peer.requestsText()[1]!, "host")).toEqual(["xn--bcher-kva.example"])
    }))

  it.effect("setTunnel('bücher.example:8443'): host:port in the host is split before IDNA (Python _get_hostport, then encode('idna'))", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ESTABLISHED, ok("x")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpConnection.make({ host: "proxy.local", port: 3128 })
          yield* conn.setTunnel("bücher.example:8443")
          yield* (yield* get(conn)).read()
        }))
      expect(peer.requestsText()[0]).toBe("CONNECT xn--bcher-kva.example:8443 HTTP/1.1\r\nHost: xn--bcher-kva.example:8443\r\n\r\n")
    }))

  it.effect("a caller Host in the tunnel headers is kept as given, the CONNECT line still in IDNA", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ESTABLISHED, ok("x")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpConnection.make({ host: "proxy.local", port: 3128 })
          yield* conn.setTunnel("bücher.example", 443, [["host", "xn--bcher-kva.example"]])
          yield* (yield* get(conn)).read()
        }))
      expect(peer.requestsText()[0]).toBe("CONNECT xn--bcher-kva.example:443 HTTP/1.1\r\nhost: xn--bcher-kva.example\r\n\r\n")
    }))
})

// ---------------------------------------------------------------------------------------------
// A5. TCP reset before any status byte
// ---------------------------------------------------------------------------------------------

describe("A5 a TCP reset before any status byte is RemoteDisconnected (Python: ConnectionResetError is a RemoteDisconnected)", () => {
  it.scopedLive("live: the server resets after reading the request → RemoteDisconnected, code ECONNRESET, cause kept", () =>
    watchdog(
      Effect.gen(function* () {
        const server = yield* rawServer((s) => {
          s.once("data", () => setTimeout(() => s.resetAndDestroy(), 20))
        })
        const conn = yield* HttpConnection.make({ host: server.host, port: server.port, timeout: "5 seconds" })
        const e = yield* fails(get(conn))
        expect(e._tag).toBe("RemoteDisconnected")
        if (e._tag === "RemoteDisconnected") {
          expect(e.code).toBe("ECONNRESET")
          expect(e.cause).toBeInstanceOf(Error)
          expect((e.cause as { code?: string }).code).toBe("ECONNRESET")
          expect(e.message).toContain("ECONNRESET")
          expect(e.message).toContain(`127.0.0.1:${server.port}`)
          expect(e.reusedConnection).toBe(false)
        }
        expect(conn.isConnected()).toBe(false)
        expect(conn.state).toBe("Idle")
        yield* eventually(() => server.openConnections() === 0, "server socket closed")
      }).pipe(Effect.provide(Transport.layer))
    ))

  it.scopedLive("live, through HttpClient: the same RemoteDisconnected with code and cause", () =>
    watchdog(
      Effect.gen(function* () {
        const server = yield* rawServer((s) => {
          s.once("data", () => setTimeout(() => s.resetAndDestroy(), 20))
        })
        const client = yield* HttpClient.HttpClient
        const e = yield* fails(Effect.scoped(client.get(`${server.url}/x`)))
        expect(e._tag).toBe("RemoteDisconnected")
        if (e._tag === "RemoteDisconnected") {
          expect(e.code).toBe("ECONNRESET")
          expect(e.cause).toBeInstanceOf(Error)
          expect(e.message).toContain(`127.0.0.1:${server.port}`)
        }
      }).pipe(Effect.provide(HttpClient.layer as Layer.Layer<HttpClient.HttpClient>))
    ))

  it.effect("mock reset step on a fresh connection: RemoteDisconnected keeps the cause's code", () =>
    withMock([Transport.mock.reset], () =>
      Effect.gen(function* () {
        const e = yield* fails(get(yield* HttpConnection.make({ host: "example.com", port: 8080 })))
        expect(e).toMatchObject({ _tag: "RemoteDisconnected", code: "ECONNRESET" })
        expect((e as { cause?: { code?: string } }).cause?.code).toBe("ECONNRESET")
        expect(e.message).toContain("example.com:8080")
      })))
})

// ---------------------------------------------------------------------------------------------
// A6. Every error message names host:port, including caller errors raised before connecting
// ---------------------------------------------------------------------------------------------

describe("A6 caller errors raised before connecting name host:port", () => {
  const conn = () => HttpConnection.make({ host: "example.com", port: 8080 })

  it.effect("HttpConnection.request: InvalidMethod, InvalidURL, InvalidHeader (value, name, non-string)", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("x")], () =>
        Effect.gen(function* () {
          const c = yield* conn()
          const cases: Array<[string, Effect.Effect<void, unknown>]> = [
            ["InvalidMethod", c.request("GE T", "/")],
            ["InvalidMethod", c.request("", "/")],
            ["InvalidURL", c.request("GET", "/a b")],
            ["InvalidURL", c.request("GET", "/\r\nX: y")],
            ["InvalidHeader", c.request("GET", "/", { headers: [["X", "a\r\nInjected: 1"]] })],
            ["InvalidHeader", c.request("GET", "/", { headers: [["Bad Name", "v"]] })],
            ["InvalidHeader", c.request("GET", "/", { headers: { X: {} as unknown as string } })]
          ]
          for (const [tag, effect] of cases) {
            const e = (yield* fails(effect)) as { _tag: string; message: string }
            expect(e._tag).toBe(tag)
            expect(e.message).toContain("example.com:8080")
          }
          expect(c.state).toBe("Idle")
        }))
      expect(peer.connections()).toBe(0)
    }))

  it.effect("HttpConnection.putRequest / putHeader / setTunnel: the same errors name host:port", () =>
    withMock([ok("x")], () =>
      Effect.gen(function* () {
        const c = yield* conn()
        for (const [tag, effect] of [
          ["InvalidMethod", c.putRequest("G\x00T", "/")],
          ["InvalidURL", c.putRequest("GET", "/a\tb")]
        ] as const) {
          const e = yield* fails(effect)
          expect(e._tag).toBe(tag)
          expect(e.message).toContain("example.com:8080")
        }
        yield* c.putRequest("GET", "/")
        const h = yield* fails(c.putHeader("X", "a\nb"))
        expect(h._tag).toBe("InvalidHeader")
        expect(h.message).toContain("example.com:8080")
        const c2 = yield* conn()
        const t = yield* fails(c2.setTunnel("target.example", 443, [["Proxy-Authorization", "x\r\ny"]]))
        expect(t._tag).toBe("InvalidHeader")
        expect(t.message).toContain("example.com:8080")
        const u = yield* fails(c2.setTunnel("bad host", 443))
        expect(u._tag).toBe("InvalidURL")
        expect(u.message).toContain("example.com:8080")
      })))

  it.effect("HttpClient.get with a header value carrying CR LF: InvalidHeader naming host:port, nothing sent", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const e = yield* fails(Effect.scoped(client.get("http://api.test:8080/x", { headers: [["X", "a\r\nInjected: 1"]] })))
      expect(e._tag).toBe("InvalidHeader")
      expect(e.message).toContain("api.test:8080")
      const n = yield* fails(Effect.scoped(client.get("http://api.test:8080/x", { headers: [["Bad Name", "v"]] })))
      expect(n._tag).toBe("InvalidHeader")
      expect(n.message).toContain("api.test:8080")
      const m = yield* fails(Effect.scoped(client.request({ method: "GE T", url: "http://api.test:8080/x" })))
      expect(m._tag).toBe("InvalidMethod")
      expect(m.message).toContain("api.test:8080")
      const peer = yield* Transport.MockPeer
      expect(peer.connections()).toBe(0)
    }).pipe(Effect.scoped, Effect.provide(clientOverMock([ok("x")]))))

  it.effect("HttpClient.get with a header value that is not a string (plain-JS caller): InvalidHeader naming host:port", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const e = yield* fails(Effect.scoped(client.get("http://api.test:8080/x", { headers: { X: {} as unknown as string } })))
      expect(e._tag).toBe("InvalidHeader")
      expect(e.message).toContain("api.test:8080")
      const p = yield* fails(Effect.scoped(client.get("http://api.test:8080/x", { headers: [["X"]] as unknown as Array<[string, string]> })))
      expect(p._tag).toBe("InvalidHeader")
      expect(p.message).toContain("api.test:8080")
    }).pipe(Effect.scoped, Effect.provide(clientOverMock([ok("x")]))))
})

// ---------------------------------------------------------------------------------------------
// A7. Host for port 80: request() and putRequest() agree
// ---------------------------------------------------------------------------------------------

describe("A7 http://example.com:80/x: the default port is left out of Host, by request() and putRequest() alike", () => {
  for (const [label, options] of [
    ["host 'example.com', port 80", { host: "example.com", port: 80 }],
    ["host 'example.com:80'", { host: "example.com:80" }],
    ["host 'example.com' (port defaulted)", { host: "example.com" }]
  ] as const) {
    it.effect(`${label}: Host: example.com from request() and from putRequest()`, () =>
      Effect.gen(function* () {
        const peer = yield* withMock([ok("a"), ok("b")], () =>
          Effect.gen(function* () {
            const conn = yield* HttpConnection.make(options)
            expect(conn.port).toBe(80)
            yield* (yield* get(conn, "/x")).read()
            yield* conn.putRequest("GET", "/x")
            yield* conn.endHeaders()
            yield* (yield* conn.getResponse).read()
          }))
        const [viaRequest, viaPut] = peer.requestsText()
        expect(viaRequest).toBe("GET /x HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\n\r\n")
        expect(viaPut).toBe(viaRequest)
      }))
  }

  it.effect("port 8080 is kept by both", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("a"), ok("b")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpConnection.make({ host: "example.com", port: 8080 })
          yield* (yield* get(conn, "/x")).read()
          yield* conn.putRequest("GET", "/x")
          yield* conn.endHeaders()
          yield* (yield* conn.getResponse).read()
        }))
      expect(peer.requestsText().map((r) => fieldValues(r, "host"))).toEqual([["example.com:8080"], ["example.com:8080"]])
    }))

  it.effect("HttpsConnection on port 443: Host without the port from both", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("a"), ok("b")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpsConnection.make({ host: "example.com:443" })
          yield* (yield* get(conn, "/x")).read()
          yield* conn.putRequest("GET", "/x")
          yield* conn.endHeaders()
          yield* (yield* conn.getResponse).read()
        }))
      expect(peer.requestsText().map((r) => fieldValues(r, "host"))).toEqual([["example.com"], ["example.com"]])
    }))

  it.effect("HttpClient.get('http://example.com:80/x') builds the same head as HttpConnection", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      yield* Effect.scoped(Effect.flatMap(client.get("http://example.com:80/x"), (r) => r.bytes))
      const peer = yield* Transport.MockPeer
      expect(peer.requestsText()[0]).toBe("GET /x HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\n\r\n")
    }).pipe(Effect.scoped, Effect.provide(clientOverMock([ok("a")]))))

  it.effect("absolute-form target 'http://example.com:80/x': request() and putRequest() agree (Python: netloc as written)", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("a"), ok("b")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpConnection.make({ host: "proxy.local", port: 3128 })
          yield* (yield* get(conn, "http://example.com:80/x")).read()
          yield* conn.putRequest("GET", "http://example.com:80/x")
          yield* conn.endHeaders()
          yield* (yield* conn.getResponse).read()
        }))
      const [viaRequest, viaPut] = peer.requestsText()
      expect(viaPut).toBe(viaRequest)
      // CPython's putrequest sends urlsplit(url).netloc unchanged, and RFC 9112 §3.2 wants the
      // target's authority as written: the explicit :80 stays.
      expect(fieldValues(viaRequest!, "host")).toEqual(["example.com:80"])
    }))
})
