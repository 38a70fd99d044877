/**
 * Our pooled client's response seen as an `@effect/platform` `HttpClientResponse`.
 *
 * The body and the pooled connection are held by a {@link ResponseBody}: read ahead into memory
 * when small (the connection then goes back to the pool at once, read or not), released when the
 * body has been read to its end, the read failed or was interrupted, or a stream of it ended or was
 * dropped; given up (bounded drain, else the socket is closed) from the request's `AbortSignal`
 * and with the scope the request was made in (see `PlatformHttpClient`).
 *
 * @internal
 * @since 0.1.0
 */
import * as Cookies from "@effect/platform/Cookies"
import * as PlatformHeaders from "@effect/platform/Headers"
import * as ClientError from "@effect/platform/HttpClientError"
import type * as ClientRequest from "@effect/platform/HttpClientRequest"
import * as ClientResponse from "@effect/platform/HttpClientResponse"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import { Cause, Deferred, Effect, Exit, FiberId, Inspectable, Option, Stream } from "effect"
import type { Http1Error } from "../Http1Error.js"
import type { ClientResponse as OurResponse } from "../HttpClient.js"
import type { BodyGone, ResponseBody } from "./body.js"

const utf8 = new TextDecoder("utf-8")

/**
 * The `HttpClientResponse` of `PlatformHttpClient`: status and headers of our response, the body
 * read once (whole reads are kept and shared), errors as `ResponseError` "Decode".
 *
 * @example
 * ```ts
 * const response = new PlatformResponse(request, ours, body)
 * const text = yield* response.text // the connection goes back to the pool here
 * ```
 * @since 0.1.0
 */
export class PlatformResponse extends Inspectable.Class implements ClientResponse.HttpClientResponse {
  readonly [ClientResponse.TypeId]: ClientResponse.TypeId = ClientResponse.TypeId
  readonly [IncomingMessage.TypeId]: IncomingMessage.TypeId = IncomingMessage.TypeId

  private read: Deferred.Deferred<Uint8Array, ClientError.ResponseError> | undefined
  private bodyValue: Uint8Array | undefined
  private streamed = false
  private cachedHeaders: PlatformHeaders.Headers | undefined
  private cachedCookies: Cookies.Cookies | undefined

  constructor(
    readonly request: ClientRequest.HttpClientRequest,
    /** Our response: its head. Its body is read through {@link held}. */
    readonly source: OurResponse,
    /** Holds the body (read ahead, or on the socket) and the connection. */
    private readonly held: ResponseBody
  ) {
    super()
  }

  get status(): number {
    return this.source.status
  }

  /** Lower-cased names; repeated fields joined with ", " (as platform does for node's headers). */
  get headers(): PlatformHeaders.Headers {
    return (this.cachedHeaders ??= PlatformHeaders.fromInput(this.source.headers.toRecord()))
  }

  /** Parsed from every `Set-Cookie` field, one cookie per field. */
  get cookies(): Cookies.Cookies {
    return (this.cachedCookies ??= Cookies.fromSetCookie(this.source.headers.getAll("set-cookie")))
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  /** Releases the connection (back to the pool after a full read, closed otherwise). */
  private get release(): Effect.Effect<void> {
    return this.held.release
  }

  private readError(e: Http1Error | BodyGone): ClientError.ResponseError {
    return e._tag === "BodyGone" ? this.decodeError(undefined, e.reason) : this.decodeError(e, e.message)
  }

  private decodeError(cause: unknown, description?: string): ClientError.ResponseError {
    return new ClientError.ResponseError({
      request: this.request,
      response: this,
      reason: "Decode",
      cause,
      description: description ?? (cause instanceof Error ? cause.message : String(cause))
    })
  }

  private get unavailable(): ClientError.ResponseError | undefined {
    if (this.streamed) return this.decodeError(undefined, "the body was already consumed as a stream")
    return undefined
  }

  /**
   * The whole body, read once and kept: every later `text` / `json` / `arrayBuffer` / ... shares it.
   * The connection is released when the read ends, whatever the outcome.
   */
  get bytes(): Effect.Effect<Uint8Array, ClientError.ResponseError> {
    return Effect.suspend(() => {
      if (this.bodyValue !== undefined) return Effect.succeed(this.bodyValue)
      if (this.read !== undefined) return Deferred.await(this.read)
      const unavailable = this.unavailable
      if (unavailable !== undefined) return Effect.fail(unavailable)
      // Read ahead whole (the common case of a small body): no read to run, nothing to release.
      const whole = this.held.takeWhole()
      if (whole !== undefined) {
        this.bodyValue = whole
        return this.held.settled ? Effect.succeed(whole) : Effect.zipRight(this.release, Effect.succeed(whole))
      }
      const deferred = Deferred.unsafeMake<Uint8Array, ClientError.ResponseError>(FiberId.none)
      this.read = deferred
      return Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Effect.exit(restore(this.held.whole)), (exit) => {
          let result: Exit.Exit<Uint8Array, ClientError.ResponseError>
          const interrupted = Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)
          if (Exit.isSuccess(exit)) {
            this.bodyValue = exit.value
            result = Exit.succeed(exit.value)
          } else {
            const failure = Cause.failureOption(exit.cause)
            result = Option.isSome(failure)
              ? Exit.fail(this.readError(failure.value))
              : interrupted
                ? Exit.fail(this.decodeError(undefined, "the body read was interrupted"))
                : Exit.failCause(Cause.map(exit.cause, (e) => this.readError(e)))
          }
          const settle = Effect.zipRight(this.release, Deferred.done(deferred, result))
          // The reading fiber itself sees its own interruption; others see the ResponseError.
          return Effect.zipRight(settle, interrupted ? Exit.failCause(Cause.map(exit.cause, (e) => this.readError(e))) : result)
        })
      )
    })
  }

  get text(): Effect.Effect<string, ClientError.ResponseError> {
    return Effect.map(this.bytes, (b) => utf8.decode(b))
  }

  get json(): Effect.Effect<unknown, ClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({ try: () => (text === "" ? null : (JSON.parse(text) as unknown)), catch: (cause) => this.decodeError(cause) })
    )
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, ClientError.ResponseError> {
    return Effect.map(this.bytes, (b) => new Uint8Array(b).buffer)
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, ClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({ try: () => UrlParams.fromInput(new URLSearchParams(text)), catch: (cause) => this.decodeError(cause) })
    )
  }

  /** Parsed by the web `Response` of the runtime (multipart or urlencoded, per Content-Type). */
  get formData(): Effect.Effect<FormData, ClientError.ResponseError> {
    return Effect.flatMap(this.bytes, (bytes) =>
      Effect.tryPromise({
        try: () => {
          const contentType = this.source.headers.get("content-type")
          return new Response(bytes, contentType === undefined ? {} : { headers: { "content-type": contentType } }).formData()
        },
        catch: (cause) => this.decodeError(cause)
      })
    )
  }

  /**
   * The body as it arrives. Read once: the connection is released when the stream ends, fails or is
   * dropped (a stream dropped before the end closes the connection). After a whole-body read it
   * replays the kept bytes.
   */
  get stream(): Stream.Stream<Uint8Array, ClientError.ResponseError> {
    return Stream.suspend(() => {
      if (this.bodyValue !== undefined) return this.bodyValue.length > 0 ? Stream.succeed(this.bodyValue) : Stream.empty
      if (this.read !== undefined) {
        return Stream.filter(Stream.fromEffect(Deferred.await(this.read)), (b) => b.length > 0)
      }
      const unavailable = this.unavailable
      if (unavailable !== undefined) return Stream.fail(unavailable)
      this.streamed = true
      return this.held.stream.pipe(
        Stream.mapError((e) => this.readError(e)),
        Stream.ensuring(this.release)
      )
    })
  }

  toJSON(): unknown {
    const out: Record<string, unknown> = {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status,
      headers: Inspectable.redact(this.headers),
      remoteAddress: this.remoteAddress.toJSON()
    }
    // Only a body already read is shown: inspecting a response never starts reading it.
    const bytes = this.bodyValue
    if (bytes !== undefined) {
      const type = this.headers["content-type"] ?? ""
      const text = utf8.decode(bytes)
      if (type.includes("application/json")) {
        try {
          out.body = JSON.parse(text) as unknown
        } catch {
          out.body = text
        }
      } else if (type.includes("text/") || type.includes("urlencoded")) out.body = text
    }
    return out
  }
}
