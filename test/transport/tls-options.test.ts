/**
 * TLS options beyond the basics: each node:tls key is honoured (it reaches the handshake) or
 * refused with `InvalidTlsOptions` before any connection is made; nothing is silently dropped.
 * Servers listen on 127.0.0.1 only; every connect and wait is bounded.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import type { Layer } from "effect"
import { X509Certificate } from "node:crypto"
import type * as net from "node:net"
import * as tls from "node:tls"
import * as Http1Error from "../../src/Http1Error.js"
import * as HttpClient from "../../src/HttpClient.js"
import * as HttpsConnection from "../../src/HttpsConnection.js"
import { requestErrorReason } from "../../src/platform/request.js"
import * as Transport from "../../src/Transport.js"
import { underlying } from "../../src/transport/node.js"
import { checkTlsContext, honouredTlsKeys, refusedTlsKeys, validateTlsOptions } from "../../src/transport/tlsOptions.js"
import type { Socket, TlsOptions } from "../../src/transport/types.js"
import * as certs from "../fixtures/certs.js"
import { echo, eventually, rawServer, tlsServer } from "../helpers/servers.js"

const connectWith = <E>(layer: Layer.Layer<Transport.Transport, E>, options: Transport.ConnectOptions) =>
  Effect.flatMap(Transport.Transport, (t) => t.connect({ timeout: "5 seconds", ...options })).pipe(Effect.provide(layer))

/**
 * The failure of `self`; a success fails the test with a short message. (Not `Effect.flip`: a
 * socket flipped into the error channel makes vitest print a huge object graph.)
 */
const failure = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<E, Error, R> =>
  Effect.flatMap(Effect.either(self), (r) =>
    Either.isLeft(r) ? Effect.succeed(r.left) : Effect.fail(new Error("expected a failure, but the effect succeeded"))
  )

/** Round-trips one byte, so the server has finished its side of the handshake. */
const ping = (socket: Socket) =>
  Effect.gen(function* () {
    yield* socket.write("p")
    const chunk = yield* socket.read({ ms: 2000, phase: "body" })
    expect(chunk === undefined ? "" : Buffer.from(chunk).toString("latin1")).toBe("p")
  })

interface Seen {
  readonly protocol: string | null
  readonly cipher: string
}

/**
 * A TLS echo server on 127.0.0.1 recording, per handshake, the negotiated protocol version
 * (`socket.getProtocol()`) and cipher; `connections()` counts every TCP connection accepted.
 */
const recordingServer = (options: tls.TlsOptions = {}) =>
  Effect.gen(function* () {
    const seen: Array<Seen> = []
    const server = yield* tlsServer({ key: certs.serverKey, cert: certs.serverCert, ALPNProtocols: ["http/1.1"], ...options }, (s) => {
      seen.push({ protocol: s.getProtocol(), cipher: s.getCipher().name })
      echo(s)
    })
    return { ...server, seen }
  })

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256

/** A pinning `checkServerIdentity`: the hostname check, then the certificate's SHA-256 fingerprint. */
const pin = (expected: string, calls: Array<string>) => (hostname: string, cert: tls.PeerCertificate): Error | undefined => {
  calls.push(hostname)
  const hostError = tls.checkServerIdentity(hostname, cert)
  if (hostError !== undefined) return hostError
  if (cert.fingerprint256 === expected) return undefined
  return Object.assign(new Error(`certificate pin mismatch: ${cert.fingerprint256}`), { code: "ERR_TEST_PIN_MISMATCH" })
}

const WRONG_PIN = "00:".repeat(31) + "00"

describe("TLS options: honoured", () => {
  it.live("maxVersion TLSv1.2 is honoured: the server negotiates TLSv1.2 (TLSv1.3 without it)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer()
        // The layer's options.
        yield* Effect.scoped(
          Effect.flatMap(connectWith(Transport.layerTlsWith({ ca: certs.ca, maxVersion: "TLSv1.2" }), { host: "localhost", port: server.port }), ping)
        )
        // Per-connect options (the path HttpsConnection and HttpClient take).
        yield* Effect.scoped(
          Effect.flatMap(
            connectWith(Transport.layerNet, { host: "localhost", port: server.port, secure: true, tls: { ca: certs.ca, maxVersion: "TLSv1.2" } }),
            ping
          )
        )
        // Control: node's default reaches TLSv1.3 with this server.
        yield* Effect.scoped(Effect.flatMap(connectWith(Transport.layerTlsWith({ ca: certs.ca }), { host: "localhost", port: server.port }), ping))
        expect(server.seen.map((s) => s.protocol)).toEqual(["TLSv1.2", "TLSv1.2", "TLSv1.3"])
      })
    ))

  it.live("maxVersion through HttpsConnection.make({ tls }): the server sees TLSv1.2", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer()
        yield* Effect.scoped(
          Effect.gen(function* () {
            const conn = yield* HttpsConnection.make({
              host: "localhost",
              port: server.port,
              tls: { ca: certs.ca, maxVersion: "TLSv1.2" },
              timeout: "5 seconds"
            })
            yield* conn.connect
            // Under TLS 1.3 the server completes after the client: keep the socket open meanwhile.
            yield* eventually(() => server.seen.length === 1, "handshake recorded")
          }).pipe(Effect.provide(Transport.layer))
        )
        expect(server.seen[0]!.protocol).toBe("TLSv1.2")
      })
    ))

  it.live("checkServerIdentity pinning: a wrong pin fails with TlsError carrying the returned error", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer()
        const calls: Array<string> = []
        const error = yield* failure(
          Effect.scoped(
            connectWith(Transport.layerTlsWith({ ca: certs.ca, checkServerIdentity: pin(WRONG_PIN, calls) }), { host: "localhost", port: server.port })
          )
        )
        expect(error._tag).toBe("TlsError")
        if (error._tag === "TlsError") {
          expect(error.code).toBe("ERR_TEST_PIN_MISMATCH")
          expect(error.reason).toContain("certificate pin mismatch")
          expect(error.cause).toBeInstanceOf(Error)
          expect((error.cause as Error).message).toContain(fingerprint(certs.serverCert))
          expect(error.port).toBe(server.port)
        }
        expect(calls).toEqual(["localhost"])
        yield* eventually(() => server.openConnections() === 0, "server side closed")
      })
    ))

  it.live("checkServerIdentity pinning: the right pin connects (called once, with the host name)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer()
        const calls: Array<string> = []
        const socket = yield* connectWith(Transport.layerTlsWith({ ca: certs.ca, checkServerIdentity: pin(fingerprint(certs.serverCert), calls) }), {
          host: "localhost",
          port: server.port
        })
        yield* ping(socket)
        expect(calls).toEqual(["localhost"])
      })
    ))

  it.live("checkServerIdentity keeps the chain check: a right pin does not accept an unknown CA", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer()
        const calls: Array<string> = []
        const error = yield* failure(
          Effect.scoped(
            connectWith(Transport.layerTlsWith({ checkServerIdentity: pin(fingerprint(certs.serverCert), calls) }), { host: "localhost", port: server.port })
          )
        )
        expect(error._tag === "TlsError" && error.code).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
        expect(calls).toEqual([])
      })
    ))

  it.live("checkServerIdentity is enforced with rejectUnauthorized: false (pinning a self-signed certificate)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer({ key: certs.selfSignedKey, cert: certs.selfSignedCert })
        const calls: Array<string> = []
        const wrong = yield* failure(
          Effect.scoped(
            connectWith(Transport.layerNet, {
              host: "localhost",
              port: server.port,
              secure: true,
              tls: { rejectUnauthorized: false, checkServerIdentity: pin(WRONG_PIN, calls) }
            })
          )
        )
        expect(wrong._tag === "TlsError" && wrong.code).toBe("ERR_TEST_PIN_MISMATCH")
        const right = yield* connectWith(Transport.layerNet, {
          host: "localhost",
          port: server.port,
          secure: true,
          tls: { rejectUnauthorized: false, checkServerIdentity: pin(fingerprint(certs.selfSignedCert), calls) }
        })
        yield* ping(right)
        expect(calls).toEqual(["localhost", "localhost"])
      })
    ))

  it.live("a checkServerIdentity that throws, or returns a non-Error, fails with TlsError (no defect)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer()
        const boom = new Error("boom")
        const thrower = () => {
          throw boom
        }
        const thrown = yield* failure(
          Effect.scoped(connectWith(Transport.layerTlsWith({ ca: certs.ca, checkServerIdentity: thrower }), { host: "localhost", port: server.port }))
        )
        expect(thrown._tag).toBe("TlsError")
        expect(thrown._tag === "TlsError" && thrown.cause).toBe(boom)
        // A plain-JS callback returning `false` (or anything but undefined / an Error) rejects.
        const odd = (() => false) as unknown as TlsOptions["checkServerIdentity"]
        const oddly = yield* failure(
          Effect.scoped(connectWith(Transport.layerTlsWith({ ca: certs.ca, checkServerIdentity: odd }), { host: "localhost", port: server.port }))
        )
        expect(oddly._tag).toBe("TlsError")
        expect(oddly.message).toContain("not an Error or undefined")
      })
    ))

  it.live("minVersion TLSv1.3 against a server with maxVersion TLSv1.2 fails with TlsError", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer({ maxVersion: "TLSv1.2" })
        const error = yield* failure(
          Effect.scoped(connectWith(Transport.layerTlsWith({ ca: certs.ca, minVersion: "TLSv1.3" }), { host: "localhost", port: server.port }))
        )
        expect(error._tag).toBe("TlsError")
        expect(server.seen).toEqual([])
        expect(server.connections()).toBe(1)
      })
    ))

  it.live("ciphers are honoured: both ends agree on the one cipher offered", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer({ maxVersion: "TLSv1.2" })
        for (const cipher of ["ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"]) {
          const client = yield* Effect.scoped(
            Effect.gen(function* () {
              const socket = yield* connectWith(Transport.layerTlsWith({ ca: certs.ca, ciphers: cipher }), { host: "localhost", port: server.port })
              yield* ping(socket)
              return (underlying(socket) as tls.TLSSocket).getCipher().name
            })
          )
          expect(client).toBe(cipher)
        }
        expect(server.seen.map((s) => s.cipher)).toEqual(["ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"])
      })
    ))

  it.live("ecdhCurve is honoured: the key exchange uses the group asked for", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer()
        const socket = yield* connectWith(Transport.layerTlsWith({ ca: certs.ca, ecdhCurve: "P-384" }), { host: "localhost", port: server.port })
        yield* ping(socket)
        expect((underlying(socket) as tls.TLSSocket).getEphemeralKeyInfo()).toMatchObject({ type: "ECDH", name: "secp384r1" })
      })
    ))

  it.live("pfx and passphrase are honoured: a server requiring a client certificate accepts the PKCS#12 one", () =>
    Effect.scoped(
      Effect.gen(function* () {
        let authorized: boolean | undefined
        const server = yield* tlsServer(
          { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: true, rejectUnauthorized: true },
          (s) => {
            authorized = s.authorized
            echo(s)
          }
        )
        const socket = yield* connectWith(
          Transport.layerTlsWith({ ca: certs.ca, pfx: certs.clientPfx, passphrase: certs.clientPfxPassphrase }),
          { host: "localhost", port: server.port }
        )
        yield* ping(socket)
        expect(authorized).toBe(true)
      })
    ))

  it.live("crl is honoured: a revoked server certificate fails with TlsError CERT_REVOKED", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer()
        const revoked = yield* failure(
          Effect.scoped(connectWith(Transport.layerTlsWith({ ca: certs.ca, crl: certs.crlServerRevoked }), { host: "localhost", port: server.port }))
        )
        expect(revoked._tag === "TlsError" && revoked.code).toBe("CERT_REVOKED")
        const socket = yield* connectWith(Transport.layerTlsWith({ ca: certs.ca, crl: [certs.crlEmpty] }), { host: "localhost", port: server.port })
        yield* ping(socket)
      })
    ))

  it.live("sigalgs is honoured: offering only RSA-PSS to an ECDSA server fails the handshake", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer()
        const error = yield* failure(
          Effect.scoped(connectWith(Transport.layerTlsWith({ ca: certs.ca, sigalgs: "RSA-PSS+SHA256" }), { host: "localhost", port: server.port }))
        )
        expect(error._tag).toBe("TlsError")
        const socket = yield* connectWith(Transport.layerTlsWith({ ca: certs.ca, sigalgs: "ECDSA+SHA256" }), { host: "localhost", port: server.port })
        yield* ping(socket)
      })
    ))

  it.live("secureContext is honoured (its own maxVersion and CA apply)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer()
        const secureContext = tls.createSecureContext({ ca: certs.ca, maxVersion: "TLSv1.2" })
        const socket = yield* connectWith(Transport.layerTlsWith({ secureContext }), { host: "localhost", port: server.port })
        yield* ping(socket)
        expect(server.seen[0]!.protocol).toBe("TLSv1.2")
      })
    ))

  it.live("startTls merges the transport's TLS options under its own (layer CA, per-call maxVersion)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer()
        // A plain TCP connect to the TLS port, then TLS over it (as inside a CONNECT tunnel).
        const plain = yield* connectWith(Transport.layerTlsWith({ ca: certs.ca }), { host: "127.0.0.1", port: server.port, secure: false })
        const secure = yield* plain.startTls({ host: "localhost", port: server.port, tls: { maxVersion: "TLSv1.2" }, timeout: "5 seconds" })
        yield* ping(secure)
        expect(server.seen[0]!.protocol).toBe("TLSv1.2")
      })
    ))
})

describe("TLS options: refused with InvalidTlsOptions, no connection made", () => {
  const expectRefused = (error: unknown, option: string) => {
    expect(error).toBeInstanceOf(Http1Error.InvalidTlsOptions)
    const e = error as Http1Error.InvalidTlsOptions
    expect(e._tag).toBe("InvalidTlsOptions")
    expect(e.option).toBe(option)
    expect(e.message).toContain(JSON.stringify(option))
    expect(Http1Error.isHttp1Error(e)).toBe(true)
    expect(Http1Error.isRetryable(e)).toBe(false)
    expect(Http1Error.isTransportError(e)).toBe(false)
  }

  it("is a caller error: not retryable, not a transport error; platform reason Encode (retryTransient skips it)", () => {
    const e = new Http1Error.InvalidTlsOptions({ option: "session", reason: "not supported" })
    expect(e.message).toBe('Invalid TLS option "session": not supported')
    expect([Http1Error.isHttp1Error(e), Http1Error.isRetryable(e), Http1Error.isTransportError(e), Http1Error.isProtocolError(e)]).toEqual([
      true,
      false,
      false,
      false
    ])
    expect(requestErrorReason(e)).toBe("Encode")
  })

  it.live("an unknown key: layerTlsWith fails at build (error channel), 0 connections", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer()
        const fromJs = { ca: certs.ca, pinnedCert: "sha256/abc" } as unknown as TlsOptions
        const error = yield* failure(Effect.scoped(connectWith(Transport.layerTlsWith(fromJs), { host: "localhost", port: server.port })))
        expectRefused(error, "pinnedCert")
        expect((error as Http1Error.InvalidTlsOptions).reason).toBe("unknown TLS option")
        // The layer alone fails to build: nothing needs to connect.
        const built = yield* Effect.either(Effect.scoped(Effect.asVoid(Transport.Transport.pipe(Effect.provide(Transport.layerTlsWith(fromJs))))))
        expect(Either.isLeft(built) && built.left._tag).toBe("InvalidTlsOptions")
        expect(server.connections()).toBe(0)
      })
    ))

  it.live("a refused key (secureProtocol) at layer build, and others per connect, 0 connections", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer()
        const sp = { ca: certs.ca, secureProtocol: "TLSv1_2_method" } as unknown as TlsOptions
        const error = yield* failure(Effect.scoped(connectWith(Transport.layerTlsWith(sp), { host: "localhost", port: server.port })))
        expectRefused(error, "secureProtocol")
        expect((error as Http1Error.InvalidTlsOptions).reason).toContain("minVersion")
        const perConnect: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
          [{ session: Buffer.from("x") }, "session"],
          [{ honorCipherOrder: true }, "honorCipherOrder"],
          [{ secureOptions: 0x4 }, "secureOptions"],
          [{ enableTrace: true }, "enableTrace"],
          [{ requestOCSP: true }, "requestOCSP"],
          [{ privateOptions: {} }, "privateOptions"],
          [{ host: "evil.example" }, "host"],
          [{ minVersion: "TLSv1.1" }, "minVersion"],
          [{ maxVersion: "TLSv1.2" }, "minVersion"], // merged over the layer's minVersion TLSv1.3
          [{ ALPNProtocols: ["h2", "http/1.1"] }, "ALPNProtocols"],
          [{ secureContext: tls.createSecureContext({}) }, "secureContext"], // with the layer's ca
          [{ servername: "127.0.0.1" }, "servername"]
        ]
        const layer = Transport.layerTlsWith({ ca: certs.ca, minVersion: "TLSv1.3" })
        for (const [tlsOptions, option] of perConnect) {
          const e = yield* failure(
            Effect.scoped(connectWith(layer, { host: "localhost", port: server.port, tls: tlsOptions as unknown as TlsOptions }))
          )
          expectRefused(e, option)
        }
        const notAnObject = yield* failure(
          Effect.scoped(connectWith(Transport.layerNet, { host: "localhost", port: server.port, secure: true, tls: "TLSv1.2" as unknown as TlsOptions }))
        )
        expectRefused(notAnObject, "tls")
        expect(server.connections()).toBe(0)
      })
    ))

  it.live("what only OpenSSL can judge fails at layer build, naming the key; 0 connections", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer()
        const cases: ReadonlyArray<readonly [TlsOptions, string]> = [
          [{ ca: certs.ca, ciphers: "NO-SUCH-CIPHER" }, "ciphers"],
          [{ ca: certs.ca, ecdhCurve: "no-such-curve" }, "ecdhCurve"],
          [{ ca: certs.ca, sigalgs: "NO+SUCH" }, "sigalgs"],
          [{ ca: certs.ca, crl: "garbage" }, "crl"],
          [{ ca: certs.ca, cert: certs.clientCert, key: certs.serverKey }, "key"], // key does not match the certificate
          [{ ca: certs.ca, pfx: certs.clientPfx, passphrase: "wrong" }, "pfx"]
        ]
        for (const [options, option] of cases) {
          const built = yield* failure(Effect.scoped(Effect.asVoid(Transport.Transport.pipe(Effect.provide(Transport.layerTlsWith(options))))))
          expectRefused(built, option)
          expect((built as Http1Error.InvalidTlsOptions).reason).toContain("node:tls cannot use it")
        }
        expect(server.connections()).toBe(0)
        // Good options pass the same check unchanged.
        const good: TlsOptions = { ca: certs.ca, pfx: certs.clientPfx, passphrase: certs.clientPfxPassphrase, crl: certs.crlEmpty, ecdhCurve: "P-256" }
        expect(Either.getOrThrow(checkTlsContext(good))).toBe(good)
      })
    ))

  it.live("HttpsConnection and HttpClient pass bad options through: the request fails typed, 0 connections", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* recordingServer()
        const bad = { ca: certs.ca, dhparam: "x" } as unknown as TlsOptions
        const viaConnection = yield* failure(
          Effect.scoped(
            Effect.gen(function* () {
              const conn = yield* HttpsConnection.make({ host: "localhost", port: server.port, tls: bad, timeout: "5 seconds" })
              yield* conn.request("GET", "/")
            }).pipe(Effect.provide(Transport.layer))
          )
        )
        expectRefused(viaConnection, "dhparam")
        const viaClient = yield* failure(
          Effect.scoped(
            Effect.flatMap(HttpClient.HttpClient, (c) => c.get(`https://localhost:${server.port}/`)).pipe(
              Effect.provide(HttpClient.layerWith({ tls: bad, timeout: "5 seconds" }))
            )
          )
        )
        expectRefused(viaClient, "dhparam")
        expect(server.connections()).toBe(0)
      })
    ))

  it.live("startTls refuses invalid options before the handshake (no byte sent)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        let received = 0
        const server = yield* rawServer((s: net.Socket) => s.on("data", (d: Buffer) => (received += d.length)))
        const plain = yield* connectWith(Transport.layerNet, { host: "127.0.0.1", port: server.port })
        const error = yield* failure(
          plain.startTls({
            host: "localhost",
            port: server.port,
            tls: { ticketKeys: Buffer.alloc(48) } as unknown as TlsOptions,
            timeout: "2 seconds"
          })
        )
        expectRefused(error, "ticketKeys")
        expect(plain.isOpen()).toBe(true)
        yield* Effect.sleep("50 millis")
        expect(received).toBe(0)
      })
    ))

  it.live("the mock transport refuses the same options on a secure connect", () =>
    Effect.gen(function* () {
      const error = yield* failure(
        Effect.scoped(
          Effect.gen(function* () {
            const conn = yield* HttpsConnection.make({ host: "example.com", tls: { sessionTimeout: 5 } as unknown as TlsOptions })
            yield* conn.request("GET", "/")
          })
        ).pipe(Effect.provide(Transport.layerMock(["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])))
      )
      expectRefused(error, "sessionTimeout")
    }))
})

describe("validateTlsOptions", () => {
  /** Every key of node's tls.connect options (ConnectionOptions, SecureContextOptions, CommonConnectionOptions). */
  const nodeKeys = [
    "ca", "cert", "key", "passphrase", "pfx", "rejectUnauthorized", "servername", "checkServerIdentity", "minVersion",
    "maxVersion", "ciphers", "ecdhCurve", "sigalgs", "crl", "minDHSize", "secureContext", "ALPNProtocols",
    "secureProtocol", "secureOptions", "session", "requestOCSP", "enableTrace", "honorCipherOrder", "dhparam",
    "ticketKeys", "sessionTimeout", "sessionIdContext", "requestCert", "SNICallback", "ALPNCallback", "clientCertEngine",
    "privateKeyEngine", "privateKeyIdentifier", "allowPartialTrustChain", "pskCallback", "pskIdentityHint", "host", "port",
    "path", "socket", "lookup", "timeout", "highWaterMark", "onread", "signal", "family", "localAddress", "localPort"
  ]

  it("every node:tls key is either honoured or refused with a reason, and the two lists are disjoint", () => {
    for (const k of nodeKeys) {
      const honoured = (honouredTlsKeys as ReadonlyArray<string>).includes(k)
      const refused = Object.prototype.hasOwnProperty.call(refusedTlsKeys, k)
      expect(honoured !== refused, k).toBe(true)
    }
  })

  it("accepts every honoured key with a well-formed value, and copies only keys that are set", () => {
    const secureContext = tls.createSecureContext({})
    const ok: TlsOptions = {
      ca: [certs.ca],
      cert: certs.clientCert,
      key: Buffer.from(certs.clientKey),
      passphrase: "p",
      pfx: [{ buf: Buffer.from("x"), passphrase: "q" }],
      rejectUnauthorized: true,
      servername: "localhost",
      checkServerIdentity: () => undefined,
      minVersion: "TLSv1.2",
      maxVersion: "TLSv1.3",
      ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256",
      ecdhCurve: "X25519:P-256",
      sigalgs: "ECDSA+SHA256",
      crl: [],
      minDHSize: 2048,
      ALPNProtocols: ["http/1.1", "http/1.0"]
    }
    const r = validateTlsOptions(ok)
    expect(Either.isRight(r)).toBe(true)
    if (Either.isRight(r)) {
      expect(Object.keys(r.right).sort()).toEqual(Object.keys(ok).sort())
      expect(r.right.ca).not.toBe(ok.ca) // arrays are copied
    }
    expect(Either.getOrThrow(validateTlsOptions({ secureContext, servername: "api.test" }))).toEqual({ secureContext, servername: "api.test" })
    expect(Either.getOrThrow(validateTlsOptions(undefined))).toEqual({})
    // Keys set to undefined count as absent, even refused ones.
    expect(Either.getOrThrow(validateTlsOptions({ secureProtocol: undefined, ca: undefined }))).toEqual({})
  })

  it("refuses bad values with the key and a reason", () => {
    const cases: ReadonlyArray<readonly [unknown, string, string]> = [
      [{ minVersion: "TLSv1" }, "minVersion", "RFC 8996"],
      [{ maxVersion: "TLSv1.4" }, "maxVersion", "TLSv1.2"],
      [{ minVersion: "TLSv1.3", maxVersion: "TLSv1.2" }, "minVersion", "above maxVersion"],
      [{ rejectUnauthorized: "false" }, "rejectUnauthorized", "boolean"],
      [{ ca: 42 }, "ca", "PEM"],
      [{ cert: [certs.clientCert, {}] }, "cert", "PEM"],
      [{ checkServerIdentity: "sha256/abc" }, "checkServerIdentity", "function"],
      [{ ciphers: "" }, "ciphers", "non-empty"],
      [{ minDHSize: 512 }, "minDHSize", "1024"],
      [{ minDHSize: "2048" }, "minDHSize", "integer"],
      [{ ALPNProtocols: "http/1.1" }, "ALPNProtocols", "array"],
      [{ ALPNProtocols: ["h2"] }, "ALPNProtocols", "HTTP/1.x"],
      [{ secureContext: { context: {} } }, "secureContext", "createSecureContext"],
      [{ secureContext: tls.createSecureContext({}), ciphers: "HIGH" }, "secureContext", "ciphers"],
      [{ servername: "::1" }, "servername", "RFC 6066"],
      [{ clientCertEngine: "dynamic" }, "clientCertEngine", "engines"],
      [{ socket: {} }, "socket", "transport"],
      [{ SNICallback: () => {} }, "SNICallback", "server-side"],
      [null, "tls", "object"],
      [[], "tls", "object"]
    ]
    for (const [input, option, reasonPart] of cases) {
      const r = validateTlsOptions(input)
      expect(Either.isLeft(r), JSON.stringify(input)).toBe(true)
      if (Either.isLeft(r)) {
        expect(r.left.option).toBe(option)
        expect(r.left.reason).toContain(reasonPart)
        expect(r.left.message).toBe(`Invalid TLS option ${JSON.stringify(option)}: ${r.left.reason}`)
      }
    }
  })

  it.effect("is an Effect too: yield* fails with InvalidTlsOptions, catchable by tag", () =>
    Effect.gen(function* () {
      const option = yield* Transport.validateTlsOptions({ bogus: true }).pipe(
        Effect.map(() => "accepted"),
        Effect.catchTag("InvalidTlsOptions", (e) => Effect.succeed(e.option))
      )
      expect(option).toBe("bogus")
      const ok = yield* Transport.validateTlsOptions({ maxVersion: "TLSv1.2" })
      expect(ok).toEqual({ maxVersion: "TLSv1.2" })
    }))
})
