/**
 * One request, as curl sends it: the head with `-i`, the body to stdout or `-o`, a progress bar
 * on a terminal, `--fail`, `--retry`; the wire log with `-v`.
 * @since 0.1.0
 */
import { Effect, Stream } from "effect"
import type { Settings } from "./args.js"
import { canRetry, makeClient, readBody, requestHeaders, retrySchedule, whereOf } from "./client.js"
import { HttpStatusError, type CliError, type Where } from "./errors.js"
import { fileSink, stdoutSink } from "./output.js"
import { ProgressBar } from "./progress.js"
import type { LogLine } from "./wire.js"

/** What a run needs from the process: its streams and whether stderr is a terminal. */
export interface Io {
  readonly log: LogLine
  readonly stderrIsTty: boolean
  readonly stdoutIsTty: boolean
  readonly columns: number
  readonly writeStderr: (text: string) => void
}

/** The outcome: `error` when it failed, with where it was and how many body bytes had arrived. */
export interface SingleResult {
  readonly error: CliError | undefined
  readonly where: Where
}

/** Sends the request once (plus `--retry` attempts) and writes the response. */
export const runSingle = (s: Settings, io: Io): Effect.Effect<SingleResult> => {
  let where: Where = whereOf(s.method, s.url)
  let received = 0
  let bar: ProgressBar | undefined
  const sink = s.output === undefined ? stdoutSink() : fileSink(s.output)
  const program = Effect.gen(function* () {
    const body = yield* readBody(s)
    const client = yield* makeClient(s, { opened: 0 }, s.verbose ? io.log : undefined, 16)
    let attempt = 0
    const send = Effect.tapError(
      client.request({ method: s.method, url: s.url, headers: requestHeaders(s), body }),
      (e) =>
        Effect.sync(() => {
          attempt++
          if (attempt <= s.retry && canRetry(e, s.method) && !s.silent) io.writeStderr(`Warning: ${e._tag}, retrying (${attempt} of ${s.retry})\n`)
        })
    )
    const res = yield* s.retry > 0 ? Effect.retry(send, retrySchedule(s.retry, s.method)) : send
    where = whereOf(s.method, res.url)
    if (s.fail && res.status >= 400) {
      yield* res.close
      return yield* Effect.fail(new HttpStatusError({ status: res.status, reason: res.reason }))
    }
    if (s.include) {
      let head = `HTTP/1.${res.version === 10 ? 0 : 1} ${res.status} ${res.reason}\r\n`
      for (const [k, v] of res.headers) head += `${k}: ${v}\r\n`
      yield* sink.write(Buffer.from(`${head}\r\n`, "latin1"))
    }
    if (s.method !== "HEAD") {
      const length = res.headers.get("content-length")
      // A decoded body has no known length: the bar counts decoded bytes.
      const encoded = s.compressed && res.headers.has("content-encoding")
      const total = !encoded && length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined
      // The bar only where a person watches, and not over the body on the same terminal.
      const showBar = !s.silent && io.stderrIsTty && (s.output !== undefined || !io.stdoutIsTty)
      if (showBar) bar = new ProgressBar({ write: io.writeStderr, columns: io.columns }, total)
      yield* Stream.runForEach(res.stream, (chunk) => {
        received += chunk.length
        bar?.add(chunk.length)
        return sink.write(chunk)
      })
    }
    bar?.finish()
    bar = undefined
    yield* sink.end
  }).pipe(Effect.scoped)
  return program.pipe(
    Effect.match({
      onSuccess: () => ({ error: undefined, where: { ...where, bodyBytes: received } }),
      onFailure: (error: CliError) => ({ error, where: { ...where, bodyBytes: received } })
    }),
    Effect.tap(() =>
      Effect.zipRight(
        sink.abort,
        Effect.sync(() => {
          bar?.finish()
        })
      )
    )
  )
}
