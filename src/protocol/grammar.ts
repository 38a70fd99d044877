/**
 * RFC 9110 / 9112 character classes as 256-entry lookup tables, shared by the parser and the
 * request encoder. Named after the ABNF rules they implement.
 * @since 0.1.0
 */

const table = (pred: (c: number) => boolean): Uint8Array => {
  const t = new Uint8Array(256)
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0
  return t
}

/** tchar: `!#$%&'*+-.^_\`|~`, DIGIT, ALPHA (RFC 9110 §5.6.2). */
export const TCHAR: Uint8Array = table(
  (c) =>
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c))
)

/** field-vchar / SP / HTAB / obs-text: what may appear inside a field value (RFC 9110 §5.5). */
export const FIELD_VALUE_CHAR: Uint8Array = table((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f))

/** What may appear in a request-target we send: visible ASCII only (no CTL, SP or non-ASCII). */
export const TARGET_CHAR: Uint8Array = table((c) => c > 0x20 && c < 0x7f)

/** The value of a HEXDIG byte (0-15), or 0xff for any other byte. */
export const HEX_VALUE: Uint8Array = (() => {
  const t = new Uint8Array(256).fill(0xff)
  for (let c = 0; c < 256; c++) {
    if (c >= 0x30 && c <= 0x39) t[c] = c - 0x30
    else if (c >= 0x41 && c <= 0x46) t[c] = c - 0x41 + 10
    else if (c >= 0x61 && c <= 0x66) t[c] = c - 0x61 + 10
  }
  return t
})()
