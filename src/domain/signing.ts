// LBank v2 request signing, shared by the server (verify), the client SDK and the CLI (sign).
// The algorithm: every parameter except `sign`, plus timestamp, signature_method and echostr,
// empty values left out, sorted by name in byte order, joined as k=v with '&' (values raw);
// MD5 of that as upper-case hex; then HmacSHA256 (lower-case hex) or RSA-SHA256 (base64) over the MD5.
import { createHash, createHmac, createSign, createVerify, timingSafeEqual, type KeyObject } from 'node:crypto';

export const SIGNATURE_METHODS = ['HmacSHA256', 'RSA'] as const;
export type SignatureMethod = (typeof SIGNATURE_METHODS)[number];

export function isSignatureMethod(value: string): value is SignatureMethod {
  return value === 'HmacSHA256' || value === 'RSA';
}

/** How values are written into the string to sign. LBank and ccxt use raw values; some clients encode them. */
export type ValueEncoding = 'raw' | 'uri' | 'form';

const encoders: Record<ValueEncoding, (value: string) => string> = {
  raw: (value) => value,
  // JavaScript's encodeURIComponent (LBank's Node connector).
  uri: (value) => encodeURIComponent(value),
  // application/x-www-form-urlencoded as Python's urlencode writes it (hummingbot): space as '+'.
  form: (value) => new URLSearchParams({ v: value }).toString().slice(2),
};

// What each encoder changes, character by character (checked against the encoders for every code
// point in test/signing.test.ts): uri keeps A-Z a-z 0-9 - _ . ! ~ * ' ( ); form keeps A-Z a-z 0-9 - _ . *.
const CHANGED_BY_URI = /[^A-Za-z0-9\-_.!~*'()]/;
const CHANGED_BY_FORM = /[^A-Za-z0-9\-_.*]/;
const URI_DIFFERS_FROM_FORM = /[ !~'()]/;

/**
 * The encodings besides raw whose string to sign would differ from the raw one and from each other,
 * decided from the values without building any string: most requests need none.
 */
export function alternateEncodings(params: Readonly<Record<string, string>>): ValueEncoding[] {
  let uri = false;
  let form = false;
  let uriDiffersFromForm = false;
  for (const name of Object.keys(params)) {
    const value = params[name];
    if (name === 'sign' || !value) continue;
    uri ||= CHANGED_BY_URI.test(value);
    form ||= CHANGED_BY_FORM.test(value);
    uriDiffersFromForm ||= URI_DIFFERS_FROM_FORM.test(value);
  }
  const encodings: ValueEncoding[] = [];
  if (uri) encodings.push('uri');
  // A value that uri changes, form changes too; form adds a string of its own only where they part.
  if (form && (!uri || uriDiffersFromForm)) encodings.push('form');
  return encodings;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Byte order of the UTF-8 names; for ASCII names (all that clients send) that is plain string order. */
function byteOrder(a: string, b: string): number {
  if (isAscii(a) && isAscii(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function buildStringToSign(params: Readonly<Record<string, string>>, encoding: ValueEncoding = 'raw'): string {
  const encode = encoders[encoding];
  return Object.keys(params)
    .filter((name) => name !== 'sign' && params[name] !== '' && params[name] !== undefined)
    .sort(byteOrder)
    .map((name) => `${name}=${encode(params[name] as string)}`)
    .join('&');
}

export function md5UpperHex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex').toUpperCase();
}

export function hmacSignature(digest: string, secret: string): string {
  return createHmac('sha256', secret).update(digest, 'utf8').digest('hex');
}

export function rsaSignature(digest: string, privateKey: KeyObject | string): string {
  return createSign('RSA-SHA256').update(digest, 'utf8').sign(privateKey, 'base64');
}

/** Constant-time, case-insensitive comparison of a presented HMAC hex signature with the expected one. */
export function verifyHmacSignature(digest: string, secret: string, presented: string): boolean {
  const expected = Buffer.from(hmacSignature(digest, secret), 'latin1');
  const given = Buffer.from(presented.toLowerCase(), 'latin1');
  // Length is public (always 64 for a well-formed signature); comparing equal-length buffers only.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function verifyRsaSignature(digest: string, publicKey: KeyObject, presented: string): boolean {
  try {
    return createVerify('RSA-SHA256').update(digest, 'utf8').verify(publicKey, presented, 'base64');
  } catch {
    // Malformed base64 or key mismatch: a bad signature, not a server error.
    return false;
  }
}

export interface SignedParams {
  /** The string the signature covers. */
  stringToSign: string;
  /** Its MD5, upper-case hex. */
  digest: string;
  sign: string;
}

/** Signs a parameter set (which must already hold timestamp, signature_method and echostr). */
export function signParams(
  params: Readonly<Record<string, string>>,
  credentials: { method: 'HmacSHA256'; secret: string } | { method: 'RSA'; privateKey: KeyObject | string },
): SignedParams {
  const stringToSign = buildStringToSign(params);
  const digest = md5UpperHex(stringToSign);
  const sign =
    credentials.method === 'HmacSHA256'
      ? hmacSignature(digest, credentials.secret)
      : rsaSignature(digest, credentials.privateKey);
  return { stringToSign, digest, sign };
}
