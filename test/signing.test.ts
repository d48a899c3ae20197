// Signing vectors computed outside this code base (md5sum, openssl dgst) from LBank's published algorithm.
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  alternateEncodings,
  buildStringToSign,
  hmacSignature,
  md5UpperHex,
  rsaSignature,
  signParams,
  verifyHmacSignature,
  verifyRsaSignature,
} from '../src/domain/signing.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

const hmacParams = {
  symbol: 'btc_usdt',
  type: 'buy',
  price: '100.5',
  amount: '10',
  api_key: 'a65a79c3-fdc2-4aec-ae36-f8aad1129317',
  timestamp: '1700000000000',
  signature_method: 'HmacSHA256',
  echostr: 'P3LHfw6tUIYWc8R2VQNy0ilKmdg5pjhbxC7',
};
const HMAC_SECRET = '374289492B19EBC9AEBF462E41B89D04';

describe('the string to sign', () => {
  it('sorts by name in byte order, joins raw values and leaves out sign and empty values', () => {
    expect(buildStringToSign({ ...hmacParams, sign: 'x', custom_id: '' })).toBe(
      'amount=10&api_key=a65a79c3-fdc2-4aec-ae36-f8aad1129317&echostr=P3LHfw6tUIYWc8R2VQNy0ilKmdg5pjhbxC7&price=100.5&signature_method=HmacSHA256&symbol=btc_usdt&timestamp=1700000000000&type=buy',
    );
  });

  it('orders upper case before lower case and underscores after letters (byte order, not locale)', () => {
    expect(buildStringToSign({ b: '1', B: '2', a_b: '3', ab: '4' })).toBe('B=2&a_b=3&ab=4&b=1');
    // UTF-8 byte order, which differs from JavaScript's UTF-16 order beyond the BMP.
    expect(buildStringToSign({ '\u{1F600}': '2', '\uFF21': '1', z: '0' })).toBe('z=0&\uFF21=1&\u{1F600}=2');
  });

  it('writes values raw, or encoded the way URL-encoding clients sign them', () => {
    const params = { note: 'a b/c', api_key: 'k' };
    expect(buildStringToSign(params)).toBe('api_key=k&note=a b/c');
    expect(buildStringToSign(params, 'uri')).toBe('api_key=k&note=a%20b%2Fc');
    expect(buildStringToSign(params, 'form')).toBe('api_key=k&note=a+b%2Fc');
  });
});

describe('the alternate encodings worth trying', () => {
  /** What building every string would give: the encodings whose string differs from raw and from those before it. */
  const distinct = (params: Record<string, string>) => {
    const seen = new Set([buildStringToSign(params)]);
    return (['uri', 'form'] as const).filter((encoding) => {
      const text = buildStringToSign(params, encoding);
      if (seen.has(text)) return false;
      seen.add(text);
      return true;
    });
  };

  it('are exactly those whose string would differ, for every character of the BMP and a sample beyond it', () => {
    for (let point = 0; point <= 0x10ffff; point += point < 0x10000 ? 1 : 0x3f) {
      if (point >= 0xd800 && point <= 0xdfff) continue;
      const params = { api_key: 'k', v: `a${String.fromCodePoint(point)}b` };
      expect(alternateEncodings(params), `U+${point.toString(16)}`).toEqual(distinct(params));
    }
  });

  it('are none for a request of plain values, and judge every value together', () => {
    expect(alternateEncodings({ api_key: 'a65a79c3-fdc2-4aec-ae36-f8aad1129317', symbol: 'btc_usdt', price: '100.5', echostr: 'P3LHfw6tUIYWc8R2VQNy0ilKmdg5pjhbxC7' })).toEqual([]);
    expect(alternateEncodings({ a: 'x!y' })).toEqual(['form']);
    expect(alternateEncodings({ a: 'x/y' })).toEqual(['uri']);
    expect(alternateEncodings({ a: 'x/y', b: 'x!y' })).toEqual(['uri', 'form']);
    // sign is not signed, and empty values are left out.
    expect(alternateEncodings({ a: 'x', sign: 'a+b/c=', c: '' })).toEqual([]);
  });
});

describe('HmacSHA256', () => {
  it('matches the vector computed with md5sum and openssl', () => {
    const signed = signParams(hmacParams, { method: 'HmacSHA256', secret: HMAC_SECRET });
    expect(signed.digest).toBe('D5A1738FDAEF7AAB36D808B7656A7C18');
    expect(signed.sign).toBe('fe05d19c268d7e77bbff80dd7ff4ff5cea959cadd384534380b7295ced77afbe');
  });

  it('verifies case-insensitively and rejects any other signature', () => {
    const digest = md5UpperHex(buildStringToSign(hmacParams));
    const sign = hmacSignature(digest, HMAC_SECRET);
    expect(verifyHmacSignature(digest, HMAC_SECRET, sign)).toBe(true);
    expect(verifyHmacSignature(digest, HMAC_SECRET, sign.toUpperCase())).toBe(true);
    const flipped = `${sign.slice(0, -1)}${sign.endsWith('0') ? '1' : '0'}`;
    expect(verifyHmacSignature(digest, HMAC_SECRET, flipped)).toBe(false);
    expect(verifyHmacSignature(digest, HMAC_SECRET, sign.slice(0, 10))).toBe(false);
    expect(verifyHmacSignature(digest, 'F'.repeat(32), sign)).toBe(false);
  });
});

describe('RSA', () => {
  const digest = fixture('rsa-vector.md5');
  const expected = fixture('rsa-vector.sig').trim();
  const privateKey = createPrivateKey(fixture('rsa-test-private.pem'));
  const publicKey = createPublicKey(fixture('rsa-test-public.pem'));

  it('matches the vector signed with openssl (RSASSA-PKCS1-v1_5, SHA-256, over the MD5 hex)', () => {
    const params = {
      api_key: 'a65a79c3-fdc2-4aec-ae36-f8aad1129317',
      timestamp: '1700000000000',
      signature_method: 'RSA',
      echostr: 'P3LHfw6tUIYWc8R2VQNy0ilKmdg5pjhbxC7',
    };
    expect(md5UpperHex(buildStringToSign(params))).toBe(digest);
    expect(rsaSignature(digest, privateKey)).toBe(expected);
    expect(signParams(params, { method: 'RSA', privateKey }).sign).toBe(expected);
  });

  it('verifies the vector and rejects a tampered digest or garbage', () => {
    expect(verifyRsaSignature(digest, publicKey, expected)).toBe(true);
    expect(verifyRsaSignature(md5UpperHex('other'), publicKey, expected)).toBe(false);
    expect(verifyRsaSignature(digest, publicKey, 'not base64 at all!')).toBe(false);
  });
});
