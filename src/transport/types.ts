/**
 * The byte-stream abstraction the connection runs on. Implementations: node:net, node:tls and an
 * in-memory mock (see `Transport.ts` for the layers).
 * @since 0.1.0
 */
import type { Duration, Effect, Scope } from "effect"
import type { PeerCertificate, SecureContext } from "node:tls"
import type { ConnectError, ConnectionReset, InvalidTlsOptions, TimeoutError, TimeoutPhase, TlsError } from "../Http1Error.js"

/**
 * The node:tls options a connection honours. Every other key of node's `tls.connect` options is
 * refused with `InvalidTlsOptions` (when a layer is built, and by every `connect` / `startTls`
 * given it), as is any unknown key: nothing is silently dropped. See `validateTlsOptions` in
 * `transport/tlsOptions.ts` for the list of refused keys and their reasons; in short: server-side
 * options (`honorCipherOrder`, `dhparam`, `ticketKeys`, ...), `secureProtocol` and
 * `secureOptions` (use the versions, ciphers or a `secureContext`), `session`, `requestOCSP`,
 * `enableTrace`, OpenSSL engines, PSK, and socket-level keys the transport sets itself (`host`,
 * `port`, `socket`, `timeout`, ...). Keys set to `undefined` count as absent.
 */
export interface TlsOptions {
  /** Trusted CA certificates (PEM); replaces the system store. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined
  /** Client certificate chain (PEM), for mutual TLS. */
  readonly cert?: string | Buffer | ReadonlyArray<string | Buffer> | undefined
  /** Client private key(s) (PEM), for mutual TLS. */
  readonly key?: string | Buffer | ReadonlyArray<string | Buffer> | undefined
  /** Passphrase of `key` or `pfx`. */
  readonly passphrase?: string | undefined
  /** Client certificate and key as PKCS#12 (with a per-entry passphrase in the object form). */
  readonly pfx?:
    | string
    | Buffer
    | ReadonlyArray<string | Buffer | { readonly buf: string | Buffer; readonly passphrase?: string | undefined }>
    | undefined
  /** Verification of chain and hostname; on unless set to `false` by name. */
  readonly rejectUnauthorized?: boolean | undefined
  /**
   * SNI and the name checked against the certificate; defaults to the host unless it is an IP
   * literal. `""` sends no SNI. An IP address is refused (RFC 6066).
   */
  readonly servername?: string | undefined
  /**
   * Replaces node's hostname check (`tls.checkServerIdentity`) after the chain is verified, e.g.
   * for certificate pinning: return an `Error` to reject the server, `undefined` to accept. To
   * keep the hostname check, call `tls.checkServerIdentity(hostname, cert)` first and return its
   * error. A rejection fails the connect with `TlsError` whose `cause` is the returned error; a
   * throw counts as a rejection with what was thrown. Enforced even with
   * `rejectUnauthorized: false` (where node would ignore its verdict): then it runs on an
   * unverified chain, which is how a self-signed certificate is pinned.
   */
  readonly checkServerIdentity?: ((hostname: string, cert: PeerCertificate) => Error | undefined) | undefined
  /** Lowest TLS version offered (node's default: TLSv1.2). TLS 1.0 / 1.1 are refused. */
  readonly minVersion?: "TLSv1.2" | "TLSv1.3" | undefined
  /** Highest TLS version offered (node's default: TLSv1.3). Must not be below `minVersion`. */
  readonly maxVersion?: "TLSv1.2" | "TLSv1.3" | undefined
  /** OpenSSL cipher list for TLS 1.2 and the TLS 1.3 suites (node's default list when absent). */
  readonly ciphers?: string | undefined
  /** Key-exchange groups, colon-separated (e.g. `"X25519:P-256"`), or `"auto"`. */
  readonly ecdhCurve?: string | undefined
  /** Signature algorithms offered, colon-separated (e.g. `"ECDSA+SHA256:RSA-PSS+SHA256"`). */
  readonly sigalgs?: string | undefined
  /** Certificate revocation lists (PEM); node then checks every certificate of the chain against them. */
  readonly crl?: string | Buffer | ReadonlyArray<string | Buffer> | undefined
  /** Smallest DH parameter size (bits) accepted for a DHE key exchange; at least 1024 (node's default). */
  readonly minDHSize?: number | undefined
  /**
   * A context made by `tls.createSecureContext` (e.g. shared by many connections). It is
   * exclusive with `ca`, `cert`, `key`, `passphrase`, `pfx`, `ciphers`, `ecdhCurve`, `sigalgs`,
   * `crl`, `minVersion` and `maxVersion` (node would ignore those): giving both is refused.
   */
  readonly secureContext?: SecureContext | undefined
  /** ALPN protocols offered; default `["http/1.1"]`. Only `http/1.1` and `http/1.0` are accepted. */
  readonly ALPNProtocols?: ReadonlyArray<string> | undefined
}

/** What `Transport.connect` needs. */
export interface ConnectOptions {
  readonly host: string
  readonly port: number
  /** Open TLS (true) or plain TCP (false). When absent, the layer's default decides. */
  readonly secure?: boolean | undefined
  readonly tls?: TlsOptions | undefined
  /** Bounds the TCP connect and the TLS handshake together; fails with `TimeoutError` phase `connect`. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Local address (and port) to bind before connecting, as Python's `source_address`. Ignored with `socketPath`. */
  readonly sourceAddress?: { readonly host: string; readonly port?: number | undefined } | undefined
  /**
   * Connect to this Unix domain socket (a named pipe on Windows) instead of `host:port` over TCP,
   * e.g. `"/var/run/docker.sock"`. `host` and `port` still name the peer: in errors, in the
   * `Host` header a connection sends, and (when `secure`) as the TLS server name checked against
   * the certificate. A missing or refused socket fails with `ConnectError` (`ENOENT`,
   * `ECONNREFUSED`, ...) whose `socketPath` is set.
   */
  readonly socketPath?: string | undefined
  /**
   * Happy Eyeballs (RFC 8305, node's `autoSelectFamily`): when `host` is a name with both IPv6
   * and IPv4 addresses, try them in turn, each for `autoSelectFamilyAttemptTimeout` before the
   * next one starts, and keep the first that connects. When neither this nor the transport's
   * configuration (`Transport.layerNetWith`) sets it, node's process-wide default decides, as for
   * node's own clients: on in Node 20 (`net.getDefaultAutoSelectFamily()`), unless the process
   * turned it off (`--no-network-family-autoselection`). This option wins over the transport's.
   * Not used for IP literals, with `sourceAddress`, or with `socketPath`.
   */
  readonly autoSelectFamily?: boolean | undefined
  /**
   * How long one Happy Eyeballs attempt runs before the next address is tried: at least 10 ms
   * (smaller values are raised to it). Default: the transport's, else node's (250 ms).
   */
  readonly autoSelectFamilyAttemptTimeout?: Duration.DurationInput | undefined
}

/**
 * Socket-level settings of a node transport (`Transport.layerNetWith`): Happy Eyeballs for host
 * names with both IPv6 and IPv4 addresses. A connect's own `autoSelectFamily` /
 * `autoSelectFamilyAttemptTimeout` win over these; when neither sets them, node's process-wide
 * defaults decide (on, 250 ms per attempt in Node 20).
 */
export interface NetOptions {
  /** `false` turns Happy Eyeballs off: only the first address the resolver returns is tried. */
  readonly autoSelectFamily?: boolean | undefined
  /** How long one attempt runs before the next address is tried; at least 10 ms. */
  readonly autoSelectFamilyAttemptTimeout?: Duration.DurationInput | undefined
}

/** A wait bound for one `read`; fails with `TimeoutError` of that phase. */
export interface ReadTimeout {
  readonly ms: number
  readonly phase: TimeoutPhase
}

/** What a callback-level read ({@link Socket.readWith}) hands over: bytes, `undefined` at EOF, or the failure. */
export type ReadResult = Uint8Array | undefined | ConnectionReset | TimeoutError

/**
 * An open, scoped byte stream. Reads are pulled (the underlying socket is paused while nobody
 * reads, so a slow consumer never buffers a large body); writes wait for `drain`.
 */
export interface Socket {
  /** Unique per process, for logs and tests. */
  readonly id: number
  readonly host: string
  readonly port: number
  readonly secure: boolean
  /**
   * The next chunk of bytes, or `undefined` once the peer has closed its side (EOF).
   * Fails with `ConnectionReset` on a socket error, `TimeoutError` when `timeout` runs out.
   */
  readonly read: (timeout?: ReadTimeout) => Effect.Effect<Uint8Array | undefined, ConnectionReset | TimeoutError>
  /**
   * Writes bytes (a string is written as Latin-1), resolving once the data is handed to the OS or
   * drained. With `timeout`, a write that waits for `drain` longer than that fails with
   * `TimeoutError` of its phase (a peer that stopped reading).
   */
  readonly write: (data: Uint8Array | string, timeout?: ReadTimeout) => Effect.Effect<void, ConnectionReset | TimeoutError>
  /**
   * Optional callback-level read, for hot paths that resume a fiber once per event instead of
   * once per Effect step: `callback` gets the next chunk, `undefined` at EOF, or the error (as
   * `read` would fail). When bytes are already buffered (or the outcome is known) it is called
   * synchronously and `readWith` returns `undefined`; otherwise it returns a function that
   * cancels the wait (the callback is then never called). One reader at a time, as with `read`.
   */
  readonly readWith?: ((timeout: ReadTimeout | undefined, callback: (result: ReadResult) => void) => (() => void) | undefined) | undefined
  /**
   * Optional synchronous write: writes and returns `true` when the data fits under the socket's
   * write buffer (no wait for `drain` needed); returns `false` and writes nothing otherwise (also
   * when the socket is closed or failed): the caller then uses `write`, which waits or fails.
   */
  readonly tryWrite?: ((data: Uint8Array) => boolean) | undefined
  /** Bytes (or an EOF / error) arrived that nobody has read yet: on an idle connection this means poison. */
  readonly hasPendingInput: () => boolean
  /** Whether the socket is still usable (not destroyed, no error, peer has not closed). */
  readonly isOpen: () => boolean
  /** Destroys the socket now. Idempotent. The scope's finalizer does the same. */
  readonly close: Effect.Effect<void>
  /**
   * Starts TLS over this socket (after a CONNECT tunnel). The returned socket owns this one;
   * closing either closes both. `tls` merges over the TLS options of the transport that opened
   * this socket; invalid ones fail with `InvalidTlsOptions` before the handshake starts.
   */
  readonly startTls: (
    options: { readonly host: string; readonly port: number; readonly tls?: TlsOptions | undefined; readonly timeout?: Duration.DurationInput | undefined }
  ) => Effect.Effect<Socket, TlsError | TimeoutError | InvalidTlsOptions, Scope.Scope>
}

/** The service: opens sockets. */
export interface TransportService {
  /**
   * Opens a socket, closed when the scope closes (success, failure or interruption). A secure
   * connect whose TLS options (the transport's merged with `options.tls`) are invalid fails with
   * `InvalidTlsOptions` before any socket is opened.
   */
  readonly connect: (
    options: ConnectOptions
  ) => Effect.Effect<Socket, ConnectError | TimeoutError | TlsError | InvalidTlsOptions, Scope.Scope>
}
