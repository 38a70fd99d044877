/**
 * `effect/Schema` decoding of responses, in the style of `@effect/platform`'s
 * `HttpClientResponse.schemaBodyJson` / `schemaJson` / `schemaNoBody`; shared by the connection's
 * `HttpResponse` and the pooled client's `ClientResponse` (anything with `status`, `headers` and
 * the read methods).
 * @internal
 */
import { Effect, type ParseResult, Schema } from "effect"
import type { ParseOptions } from "effect/SchemaAST"
import type { Headers } from "../Headers.js"
import { DecodeError, type Http1Error } from "../Http1Error.js"

/** `JSON.parse` of a body's text; `DecodeError` when it is not JSON. */
export const parseJson = (text: string): Effect.Effect<unknown, DecodeError> =>
  Effect.try({ try: () => JSON.parse(text) as unknown, catch: (cause) => new DecodeError({ reason: "body is not valid JSON", cause }) })


/** What the schema helpers read: a connection's `HttpResponse` or the pooled client's `ClientResponse`. */
export interface SchemaReadable {
  readonly status: number
  readonly headers: Headers
  readonly text: Effect.Effect<string, Http1Error>
  readonly json: Effect.Effect<unknown, Http1Error>
}

export const schemaBodyJson =
  <A, I, R>(schema: Schema.Schema<A, I, R>, options?: ParseOptions | undefined) =>
  (self: SchemaReadable): Effect.Effect<A, Http1Error | ParseResult.ParseError, R> => {
    const decode = Schema.decodeUnknown(schema, options)
    return Effect.flatMap(self.json, decode)
  }

export const schemaJson =
  <
    A,
    I extends { readonly status?: number | undefined; readonly headers?: Readonly<Record<string, string>> | undefined; readonly body?: unknown },
    R
  >(schema: Schema.Schema<A, I, R>, options?: ParseOptions | undefined) =>
  (self: SchemaReadable): Effect.Effect<A, Http1Error | ParseResult.ParseError, R> => {
    const decode = Schema.decodeUnknown(schema, options)
    return Effect.flatMap(self.text, (text) =>
      Effect.flatMap(text.length === 0 ? Effect.succeed(undefined) : parseJson(text), (body) =>
        decode({ status: self.status, headers: self.headers.toRecord(), body })
      )
    )
  }

export const schemaNoBody =
  <A, I extends { readonly status?: number | undefined; readonly headers?: Readonly<Record<string, string>> | undefined }, R>(
    schema: Schema.Schema<A, I, R>,
    options?: ParseOptions | undefined
  ) =>
  (self: Pick<SchemaReadable, "status" | "headers">): Effect.Effect<A, ParseResult.ParseError, R> =>
    Schema.decodeUnknown(schema, options)({ status: self.status, headers: self.headers.toRecord() })

export const schemaHeaders =
  <A, I extends Readonly<Record<string, string | undefined>>, R>(schema: Schema.Schema<A, I, R>, options?: ParseOptions | undefined) =>
  (self: Pick<SchemaReadable, "headers">): Effect.Effect<A, ParseResult.ParseError, R> =>
    Schema.decodeUnknown(schema, options)(self.headers.toRecord())
