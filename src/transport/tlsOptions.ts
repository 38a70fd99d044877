/**
 * Validation of {@link TlsOptions}: every key of node's `tls.connect` options is either honoured
 * (passed to node:tls, typed in `TlsOptions`) or refused with {@link InvalidTlsOptions}; keys we
 * do not know are refused too. Nothing a caller passes is silently dropped.
 *
 * Keys whose value is `undefined` count as absent (as in `mergeTls`), whatever their name.
 *
 * Two levels: {@link validateTlsOptions} (keys and value shapes; cheap, run on every secure
 * connect and `startTls`) and {@link checkTlsContext} (node builds a secure context from them;
 * about a millisecond, run once when a layer or client is built).
 *
 * @example
 * ```ts
 * import { Effect, Either } from "effect"
 * import { validateTlsOptions } from "./tlsOptions.js"
 *
 * const checked = validateTlsOptions({ ca, maxVersion: "TLSv1.2" })
 * if (Either.isLeft(checked)) console.error(checked.left.message)
 * // an Either is an Effect: `yield* validateTlsOptions(options)` fails with InvalidTlsOptions
 * ```
 * @since 0.1.0
 */
import { Either } from "effect"
import * as net from "node:net"
import * as tls from "node:tls"
import { InvalidTlsOptions } from "../Http1Error.js"
import type { TlsOptions } from "./types.js"

type Check = (value: unknown) => string | undefined

const isBytes = (v: unknown): boolean => typeof v === "string" || v instanceof Uint8Array

const pemOrList = (what: string): Check => (v) => {
  if (isBytes(v)) return undefined
  if (Array.isArray(v) && v.every(isBytes)) return undefined
  return `must be a ${what} (string or Buffer) or an array of them`
}

const isPfxEntry = (v: unknown): boolean => {
  if (isBytes(v)) return true
  if (typeof v !== "object" || v === null) return false
  const e = v as { buf?: unknown; passphrase?: unknown }
  return isBytes(e.buf) && (e.passphrase === undefined || typeof e.passphrase === "string")
}

const nonEmptyString = (v: unknown): string | undefined =>
  typeof v === "string" && v.length > 0 ? undefined : "must be a non-empty string"

/** node exports its `SecureContext` class at run time, though @types/node does not declare it. */
const SecureContextClass: unknown = (tls as unknown as Record<string, unknown>)["SecureContext"]

const isSecureContext = (v: unknown): boolean =>
  typeof SecureContextClass === "function"
    ? v instanceof (SecureContextClass as new (...args: Array<never>) => unknown)
    : typeof v === "object" && v !== null && "context" in v

const VERSIONS: ReadonlyArray<string> = ["TLSv1.2", "TLSv1.3"]

const tlsVersion: Check = (v) => {
  if (typeof v === "string" && VERSIONS.includes(v)) return undefined
  if (v === "TLSv1" || v === "TLSv1.1") return `${v} is not supported (deprecated by RFC 8996); use "TLSv1.2" or "TLSv1.3"`
  return `must be "TLSv1.2" or "TLSv1.3"`
}

/** ALPN ids this client can speak: a server that picks anything else would get HTTP/1.1 bytes. */
const ALPN_IDS: ReadonlyArray<string> = ["http/1.1", "http/1.0"]

/** The keys we honour, with the check of their value. */
const honoured: Readonly<Record<keyof TlsOptions, Check>> = {
  ca: pemOrList("PEM certificate"),
  cert: pemOrList("PEM certificate"),
  key: pemOrList("PEM private key"),
  passphrase: (v) => (typeof v === "string" ? undefined : "must be a string"),
  pfx: (v) =>
    isPfxEntry(v) || (Array.isArray(v) && v.every(isPfxEntry))
      ? undefined
      : "must be a PKCS#12 blob (string or Buffer), an object { buf, passphrase? }, or an array of them",
  rejectUnauthorized: (v) => (typeof v === "boolean" ? undefined : "must be a boolean"),
  servername: (v) => (typeof v === "string" ? undefined : "must be a string"),
  checkServerIdentity: (v) => (typeof v === "function" ? undefined : "must be a function (hostname, cert) => Error | undefined"),
  minVersion: tlsVersion,
  maxVersion: tlsVersion,
  ciphers: nonEmptyString,
  ecdhCurve: nonEmptyString,
  sigalgs: nonEmptyString,
  crl: pemOrList("PEM CRL"),
  minDHSize: (v) =>
    typeof v === "number" && Number.isSafeInteger(v) && v >= 1024
      ? undefined
      : "must be an integer of at least 1024 (node's default; lower would accept weaker DH parameters)",
  secureContext: (v) => (isSecureContext(v) ? undefined : "must be a SecureContext made by tls.createSecureContext"),
  ALPNProtocols: (v) => {
    if (!Array.isArray(v)) return "must be an array of strings"
    for (const p of v) {
      if (typeof p !== "string" || !ALPN_IDS.includes(p)) {
        return `offers ${JSON.stringify(p)}, but this client speaks HTTP/1.x only (allowed: ${ALPN_IDS.join(", ")})`
      }
    }
    return undefined
  }
}

const TRANSPORT = "set by the transport; use the connect options (host, port, timeout, sourceAddress)"
const SERVER_ONLY = "a server-side option; it has no effect on a client connection"
const ENGINES = "OpenSSL engines are not supported (deprecated in OpenSSL 3); use key or pfx, or a secureContext"

/** node:tls / node:net keys we refuse, and why. */
const refused: Readonly<Record<string, string>> = {
  secureProtocol: "legacy OpenSSL method names are not supported; use minVersion / maxVersion",
  secureOptions: "raw OpenSSL SSL_OP_* flags are not supported; use minVersion / maxVersion / ciphers, or pass a secureContext you built",
  session: "TLS session resumption is not supported (a resumed session skips checkServerIdentity)",
  requestOCSP: "the stapled OCSP response would not be checked, so it would not enforce revocation; use crl",
  enableTrace: "writes the handshake trace to the process's stderr; not supported",
  allowPartialTrustChain: "relaxes certificate chain verification; not supported",
  pskCallback: "TLS-PSK is not supported (it replaces certificate authentication)",
  pskIdentityHint: SERVER_ONLY,
  honorCipherOrder: SERVER_ONLY,
  dhparam: SERVER_ONLY,
  ticketKeys: SERVER_ONLY,
  sessionTimeout: SERVER_ONLY,
  sessionIdContext: SERVER_ONLY,
  requestCert: SERVER_ONLY,
  SNICallback: SERVER_ONLY,
  ALPNCallback: SERVER_ONLY,
  handshakeTimeout: SERVER_ONLY,
  isServer: SERVER_ONLY,
  server: SERVER_ONLY,
  clientCertEngine: ENGINES,
  privateKeyEngine: ENGINES,
  privateKeyIdentifier: ENGINES,
  host: TRANSPORT,
  port: TRANSPORT,
  path: TRANSPORT,
  socket: TRANSPORT,
  lookup: TRANSPORT,
  timeout: TRANSPORT,
  family: TRANSPORT,
  hints: TRANSPORT,
  localAddress: TRANSPORT,
  localPort: TRANSPORT,
  signal: TRANSPORT,
  highWaterMark: TRANSPORT,
  onread: TRANSPORT,
  keepAlive: TRANSPORT,
  keepAliveInitialDelay: TRANSPORT,
  noDelay: TRANSPORT,
  autoSelectFamily: TRANSPORT,
  autoSelectFamilyAttemptTimeout: TRANSPORT,
  allowHalfOpen: TRANSPORT,
  pipe: TRANSPORT,
  singleUse: TRANSPORT
}

/** Options node ignores when a `secureContext` is given (they build the context). */
const CONTEXT_KEYS: ReadonlyArray<keyof TlsOptions> = [
  "ca",
  "cert",
  "key",
  "passphrase",
  "pfx",
  "ciphers",
  "ecdhCurve",
  "sigalgs",
  "crl",
  "minVersion",
  "maxVersion"
]

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

/**
 * The honoured keys of node's `tls.connect` options (the keys of {@link TlsOptions}).
 * @example
 * ```ts
 * honouredTlsKeys.includes("checkServerIdentity") // true
 * ```
 * @since 0.1.0
 */
export const honouredTlsKeys: ReadonlyArray<keyof TlsOptions> = Object.keys(honoured) as Array<keyof TlsOptions>

/**
 * The node:tls keys refused with {@link InvalidTlsOptions}, each with its reason (any other key
 * outside {@link honouredTlsKeys} is refused as unknown).
 * @example
 * ```ts
 * refusedTlsKeys.secureProtocol // "legacy OpenSSL method names are not supported; ..."
 * ```
 * @since 0.1.0
 */
export const refusedTlsKeys: Readonly<Record<string, string>> = refused

/**
 * Checks TLS options (from typed or plain-JS callers): every key must be one of
 * {@link TlsOptions} with a value of the right shape; refused and unknown keys, TLS 1.0/1.1,
 * `minVersion` above `maxVersion`, ALPN ids other than `http/1.x`, and a `secureContext` given
 * together with options that node would then ignore (`ca`, `cert`, `key`, `ciphers`, versions, ...)
 * fail with {@link InvalidTlsOptions}. Keys whose value is `undefined` count as absent.
 *
 * On success, returns a fresh object holding only the honoured keys that are set: pass that one to
 * the transport. The result is an `Either`, which is also an `Effect`
 * (`yield* validateTlsOptions(o)` fails with `InvalidTlsOptions`).
 *
 * @example
 * ```ts
 * validateTlsOptions({ maxVersion: "TLSv1.2" })   // Right({ maxVersion: "TLSv1.2" })
 * validateTlsOptions({ secureProtocol: "TLSv1_method" } as any)
 * // Left(InvalidTlsOptions { option: "secureProtocol", reason: "legacy OpenSSL method names ..." })
 * ```
 * @since 0.1.0
 */
export const validateTlsOptions = (options: unknown): Either.Either<TlsOptions, InvalidTlsOptions> => {
  if (options === undefined) return Either.right({})
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    return Either.left(new InvalidTlsOptions({ option: "tls", reason: "must be an object of TLS options" }))
  }
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(options)) {
    const v = (options as Record<string, unknown>)[k]
    if (v === undefined) continue
    if (hasOwn(honoured, k)) {
      const problem = honoured[k as keyof TlsOptions](v)
      if (problem !== undefined) return Either.left(new InvalidTlsOptions({ option: k, reason: problem }))
      out[k] = Array.isArray(v) ? [...(v as Array<unknown>)] : v
    } else if (hasOwn(refused, k)) {
      return Either.left(new InvalidTlsOptions({ option: k, reason: refused[k]! }))
    } else {
      return Either.left(new InvalidTlsOptions({ option: k, reason: "unknown TLS option" }))
    }
  }
  const o = out as TlsOptions
  if (o.minVersion === "TLSv1.3" && o.maxVersion === "TLSv1.2") {
    return Either.left(new InvalidTlsOptions({ option: "minVersion", reason: "minVersion TLSv1.3 is above maxVersion TLSv1.2" }))
  }
  if (o.secureContext !== undefined) {
    const clash = CONTEXT_KEYS.filter((k) => o[k] !== undefined)
    if (clash.length > 0) {
      return Either.left(
        new InvalidTlsOptions({
          option: "secureContext",
          reason: `node ignores ${clash.join(", ")} when a secureContext is given; pass them to tls.createSecureContext instead`
        })
      )
    }
  }
  if (o.servername !== undefined && o.servername !== "" && net.isIP(o.servername) !== 0) {
    return Either.left(
      new InvalidTlsOptions({ option: "servername", reason: "an IP address cannot be a TLS server name (RFC 6066); leave it unset for IP hosts" })
    )
  }
  return Either.right(o)
}

/** The context-building keys in the order node applies them, for naming the one node refuses. */
const CONTEXT_STEPS: ReadonlyArray<ReadonlyArray<keyof TlsOptions>> = [
  ["minVersion", "maxVersion"],
  ["ciphers"],
  ["ecdhCurve"],
  ["sigalgs"],
  ["ca"],
  ["crl"],
  ["cert"],
  ["key", "passphrase"],
  ["pfx", "passphrase"]
]

const tryContext = (o: Record<string, unknown>): Error | undefined => {
  try {
    tls.createSecureContext(o as tls.SecureContextOptions)
    return undefined
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err))
  }
}

/**
 * The deeper check, for when a layer or client is built: builds a secure context from (already
 * validated) options, once, so that what only OpenSSL can judge — a cipher list that matches
 * nothing, an unknown curve or signature algorithm, an unreadable certificate, key, CRL or PKCS#12
 * blob, a wrong passphrase, a key that does not match its certificate — fails here with
 * {@link InvalidTlsOptions} (naming the key) rather than on the first connect. Costs about a
 * millisecond (more with large CA bundles); skipped when a `secureContext` is given. It does not
 * contact anything. (`ca` entries that are not PEM certificates are ignored by node, so they cannot
 * be caught here.)
 *
 * @example
 * ```ts
 * const checked = Either.flatMap(validateTlsOptions(options), checkTlsContext)
 * ```
 * @since 0.1.0
 */
export const checkTlsContext = (options: TlsOptions): Either.Either<TlsOptions, InvalidTlsOptions> => {
  if (options.secureContext !== undefined) return Either.right(options)
  const all: Record<string, unknown> = {}
  for (const step of CONTEXT_STEPS) for (const k of step) if (options[k] !== undefined) all[k] = options[k]
  const failure = tryContext(all)
  if (failure === undefined) return Either.right(options)
  // Name the key: add them in node's order until the context fails.
  const acc: Record<string, unknown> = {}
  for (const step of CONTEXT_STEPS) {
    const present = step.filter((k) => options[k] !== undefined && !(k in acc && k === "passphrase"))
    if (present.length === 0) continue
    for (const k of present) acc[k] = options[k]
    const err = tryContext(acc)
    if (err !== undefined) {
      return Either.left(new InvalidTlsOptions({ option: present[0]!, reason: `node:tls cannot use it: ${err.message}` }))
    }
  }
  return Either.left(new InvalidTlsOptions({ option: "tls", reason: `node:tls cannot use these options: ${failure.message}` }))
}

/**
 * Wraps a caller's `checkServerIdentity` so that it can neither throw into node's handshake
 * callback (an uncaught exception) nor accept by returning something odd: a throw becomes the
 * returned error, and any result other than `undefined` / `null` / an `Error` rejects.
 * @internal
 */
export const safeCheckServerIdentity =
  (check: NonNullable<TlsOptions["checkServerIdentity"]>) =>
  (hostname: string, cert: tls.PeerCertificate): Error | undefined => {
    let result: unknown
    try {
      result = check(hostname, cert)
    } catch (err) {
      return err instanceof Error ? err : new Error(`checkServerIdentity threw: ${String(err)}`)
    }
    if (result === undefined || result === null) return undefined
    if (result instanceof Error) return result
    return new Error(`checkServerIdentity returned ${typeof result}, not an Error or undefined: certificate rejected`)
  }
