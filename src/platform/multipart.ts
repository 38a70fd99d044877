/**
 * A streaming `multipart/form-data` encoder (RFC 7578, WHATWG HTML "multipart/form-data encoding
 * algorithm") for `HttpBody.formData` request bodies: string fields and `File` / `Blob` parts,
 * a random boundary, and an exact Content-Length (every part's size is known up front).
 *
 * @internal
 * @since 0.1.0
 */
import { Chunk, Data, Stream } from "effect"
import { randomBytes } from "node:crypto"

/**
 * Reading a `Blob` / `File` part failed.
 *
 * @example
 * ```ts
 * new FormDataPartError({ name: "upload", cause })
 * ```
 * @since 0.1.0
 */
export class FormDataPartError extends Data.TaggedError("FormDataPartError")<{
  readonly name: string
  readonly cause: unknown
}> {
  override get message() {
    return `Cannot read form-data part ${JSON.stringify(this.name)}`
  }
}

/**
 * The encoded body: its Content-Type (with the boundary), exact length and bytes.
 *
 * @example
 * ```ts
 * const { contentType, contentLength, stream }: EncodedFormData = encodeFormData(form)
 * ```
 * @since 0.1.0
 */
export interface EncodedFormData {
  readonly boundary: string
  readonly contentType: string
  readonly contentLength: number
  readonly stream: Stream.Stream<Uint8Array, FormDataPartError>
}

const encoder = new TextEncoder()
const CRLF = encoder.encode("\r\n")

/**
 * A boundary of 17 fixed and 32 random characters; collisions with content are out of reach.
 *
 * @example
 * ```ts
 * randomBoundary() // "----effect-http1-3f9c..."
 * ```
 * @since 0.1.0
 */
export const randomBoundary = (): string => `----effect-http1-${randomBytes(16).toString("hex")}`

/** Line breaks normalised to CRLF, as the WHATWG algorithm does for names and string values. */
const normalizeLineBreaks = (s: string): string => s.replace(/\r\n|\r|\n/g, "\r\n")

/** Names and filenames inside the quoted Content-Disposition parameters. */
const escapeQuoted = (s: string): string =>
  normalizeLineBreaks(s).replace(/\r/g, "%0D").replace(/\n/g, "%0A").replace(/"/g, "%22")

/** What `FormData` holds: strings and files (a `Blob` is stored as a `File` named "blob"). */
type Entry = readonly [string, string | Blob]

const isBlob = (u: unknown): u is Blob =>
  typeof u === "object" && u !== null && typeof (u as Blob).stream === "function" && typeof (u as Blob).size === "number"

/**
 * Encodes `form` as `multipart/form-data`.
 *
 * @example
 * ```ts
 * const form = new FormData()
 * form.append("a", "1")
 * const { contentType, contentLength, stream } = encodeFormData(form)
 * ```
 * @since 0.1.0
 */
export const encodeFormData = (form: FormData, boundary: string = randomBoundary()): EncodedFormData => {
  const parts: Array<Stream.Stream<Uint8Array, FormDataPartError>> = []
  let length = 0
  const entries: Array<Entry> = []
  form.forEach((value, name) => entries.push([name, value as string | Blob]))
  for (const [name, value] of entries) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(name)}"`
    if (!isBlob(value)) {
      const bytes = encoder.encode(`${head}\r\n\r\n${normalizeLineBreaks(String(value))}\r\n`)
      length += bytes.length
      parts.push(Stream.succeed(bytes))
      continue
    }
    const filename = typeof (value as File).name === "string" ? (value as File).name : "blob"
    const type = value.type !== "" ? value.type : "application/octet-stream"
    head += `; filename="${escapeQuoted(filename)}"\r\nContent-Type: ${type.replace(/[\r\n]/g, "")}\r\n\r\n`
    const headBytes = encoder.encode(head)
    length += headBytes.length + value.size + CRLF.length
    const blob = value
    parts.push(
      Stream.concat(
        Stream.concat(
          Stream.succeed(headBytes),
          Stream.fromReadableStream({
            evaluate: () => blob.stream() as ReadableStream<Uint8Array>,
            onError: (cause) => new FormDataPartError({ name, cause })
          })
        ),
        Stream.succeed(CRLF)
      )
    )
  }
  const end = encoder.encode(`--${boundary}--\r\n`)
  length += end.length
  parts.push(Stream.succeed(end))
  return {
    boundary,
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength: length,
    stream: Stream.concatAll(Chunk.fromIterable(parts))
  }
}
