// Random tokens and their stored form. Tokens and codes are stored as SHA-256 digests and compared in
// constant time, so neither a database dump nor response timing reveals them.
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/** 256 bits (or the given number of bytes) from the CSPRNG, base64url-encoded. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** A decimal code of the given number of digits, uniformly drawn (leading zeros kept). */
export function randomDigits(digits: number): string {
  return String(randomInt(0, 10 ** digits)).padStart(digits, '0');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Compares two strings without revealing, through timing, where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a, 'utf8').digest();
  const right = createHash('sha256').update(b, 'utf8').digest();
  // Comparing digests keeps the comparison constant-time even when the lengths differ.
  return timingSafeEqual(left, right) && a.length === b.length;
}
