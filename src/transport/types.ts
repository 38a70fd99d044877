/**
 * The byte-stream abstraction the connection runs on. Implementations: node:net, node:tls and an
 * in-memory mock (see `Transport.ts` for the layers).
 * @since 0.1.0
 */
import type { Duration, Effect, Scope } from "effect"
import type { ConnectError, ConnectionReset, TimeoutError, TimeoutPhase, TlsError } from "../Http1Error.js"

/** node:tls options we pass through (PEM as string or Buffer). */
export interface TlsOptions {
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined
  readonly cert?: string | Buffer | undefined
  readonly key?: string | Buffer | undefined
  readonly passphrase?: string | undefined
  /** Verification of chain and hostname; on unless set to `false` by name. */
  readonly rejectUnauthorized?: boolean | undefined
  /** SNI and the name checked against the certificate; defaults to the host unless it is an IP literal. */
  readonly servername?: string | undefined
  readonly minVersion?: "TLSv1.2" | "TLSv1.3" | undefined
  readonly ciphers?: string | undefined
  /** ALPN protocols offered; default `["http/1.1"]`. */
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
  /** Local address (and port) to bind before connecting, as Python's `source_address`. */
  readonly sourceAddress?: { readonly host: string; readonly port?: number | undefined } | undefined
}

/** A wait bound for one `read`; fails with `TimeoutError` of that phase. */
export interface ReadTimeout {
  readonly ms: number
  readonly phase: TimeoutPhase
}

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
  /** Bytes (or an EOF / error) arrived that nobody has read yet: on an idle connection this means poison. */
  readonly hasPendingInput: () => boolean
  /** Whether the socket is still usable (not destroyed, no error, peer has not closed). */
  readonly isOpen: () => boolean
  /** Destroys the socket now. Idempotent. The scope's finalizer does the same. */
  readonly close: Effect.Effect<void>
  /**
   * Starts TLS over this socket (after a CONNECT tunnel). The returned socket owns this one;
   * closing either closes both.
   */
  readonly startTls: (
    options: { readonly host: string; readonly port: number; readonly tls?: TlsOptions | undefined; readonly timeout?: Duration.DurationInput | undefined }
  ) => Effect.Effect<Socket, TlsError | TimeoutError, Scope.Scope>
}

/** The service: opens sockets. */
export interface TransportService {
  /** Opens a socket, closed when the scope closes (success, failure or interruption). */
  readonly connect: (options: ConnectOptions) => Effect.Effect<Socket, ConnectError | TimeoutError | TlsError, Scope.Scope>
}
