/**
 * effect-http1: the HTTP/1.1 client for the Effect ecosystem.
 *
 * One namespace per module, Effect style:
 *
 * ```ts
 * import { HttpConnection, HttpClient, Transport, Http1Error } from "effect-http1"
 * ```
 * @since 0.1.0
 */

/** Every tagged error, their union `Http1Error`, and the group predicates. */
export * as Http1Error from "./Http1Error.js"
/** Ordered, case-insensitive multi-map of header fields. */
export * as Headers from "./Headers.js"
/** The `Transport` service and its layers: `layerNet`, `layerTls`, `layer`, `layerMock`. */
export * as Transport from "./Transport.js"
/** Python's `HTTPConnection`. */
export * as HttpConnection from "./HttpConnection.js"
/** Python's `HTTPSConnection`. */
export * as HttpsConnection from "./HttpsConnection.js"
/** Python's `HTTPResponse`. */
export * as HttpResponse from "./HttpResponse.js"
/** The pooled keep-alive client. */
export * as HttpClient from "./HttpClient.js"
/** `@effect/platform`'s `HttpClient.HttpClient` on our engine. */
export * as PlatformHttpClient from "./PlatformHttpClient.js"
/** The sans-IO connection core: one connection's framing, reuse and pipelining decisions. */
export * as ClientConnection from "./protocol/ClientConnection.js"
/** The sans-IO response parser. */
export * as ResponseParser from "./protocol/ResponseParser.js"
/** The sans-IO request serializer. */
export * as RequestEncoder from "./protocol/RequestEncoder.js"
/** Parser events and limits. */
export * as ParserEvents from "./protocol/events.js"
