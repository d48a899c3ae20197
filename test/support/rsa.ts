// RSA public keys of any size and exponent, for tests of what the server accepts. Nobody holds their
// private keys: the modulus is random, which importing a public key does not check.
import { createPublicKey, randomBytes } from 'node:crypto';

function base64Url(value: bigint): string {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
}

/** A PEM SPKI RSA public key whose modulus has exactly `bits` bits. */
export function rsaPublicKeyPem(bits: number, exponent: bigint): string {
  const modulus = randomBytes(Math.ceil(bits / 8));
  const spare = modulus.length * 8 - bits;
  modulus[0] = (modulus[0]! & (0xff >> spare)) | (0x80 >> spare);
  modulus[modulus.length - 1]! |= 1;
  const key = createPublicKey({ key: { kty: 'RSA', n: modulus.toString('base64url'), e: base64Url(exponent) }, format: 'jwk' });
  if (key.asymmetricKeyDetails?.modulusLength !== bits || key.asymmetricKeyDetails.publicExponent !== exponent) throw new Error('the key came out other than asked');
  return key.export({ format: 'pem', type: 'spki' }).toString();
}

/** A 2048-bit public exponent, as large as the modulus: each signature check costs many times the usual. */
export const HUGE_EXPONENT = BigInt(`0x${'f'.repeat(511)}1`);
