import { describe, expect, it } from 'vitest';
import {
  authorityExpiresAt,
  canonicalIp,
  checkKeyQuota,
  checkKeySettings,
  effectiveAuthority,
  KeyRuleError,
  newHmacSecret,
  newRsaKeyPair,
  normaliseAuthority,
  parseIpList,
  parseRsaPublicKey,
  UNBOUND_AUTHORITY_LIFETIME_MS,
  validateName,
} from '../src/domain/keys.js';
import { auditRestrictions } from '../src/domain/key-audit.js';

function violationOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (error instanceof KeyRuleError) return error.violation;
    throw error;
  }
  throw new Error('expected a KeyRuleError');
}

describe('IP whitelist', () => {
  it('takes comma-separated IPv4 and IPv6 addresses, canonicalised', () => {
    expect(parseIpList('192.168.1.1,192.168.1.2')).toEqual(['192.168.1.1', '192.168.1.2']);
    expect(parseIpList('2001:DB8:0:0::1,::ffff:10.0.0.1')).toEqual(['2001:db8::1', '10.0.0.1']);
    expect(parseIpList('')).toEqual([]);
  });

  it('refuses spaces, naming the expected form', () => {
    const v = violationOf(() => parseIpList('192.168.1.1, 192.168.1.2'));
    expect(v).toMatchObject({ field: 'ips', rule: 'no_spaces' });
    expect(v.message).toContain('192.168.1.1,192.168.1.2');
  });

  it('names the bad entry', () => {
    const v = violationOf(() => parseIpList('10.0.0.1,300.1.1.1'));
    expect(v).toMatchObject({ field: 'ips', rule: 'format' });
    expect(v.message).toContain('"300.1.1.1"');
    expect(violationOf(() => parseIpList('10.0.0.1,,10.0.0.2')).rule).toBe('format');
    expect(violationOf(() => parseIpList('10.0.0.1,10.0.0.1')).rule).toBe('duplicate');
  });

  it('allows 20 addresses and refuses 21', () => {
    const ips = (n: number) => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}`).join(',');
    expect(parseIpList(ips(20))).toHaveLength(20);
    expect(violationOf(() => parseIpList(ips(21)))).toMatchObject({ field: 'ips', rule: 'max_ips' });
  });

  it('compares client addresses in canonical form', () => {
    expect(canonicalIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalIp('::FFFF:7f00:1')).toBe('127.0.0.1');
    expect(canonicalIp('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(canonicalIp('localhost')).toBeUndefined();
  });
});

describe('key settings', () => {
  it('bounds the name to 1–20 characters', () => {
    expect(validateName('  MM Bot ')).toBe('MM Bot');
    expect(violationOf(() => validateName(''))).toMatchObject({ field: 'name', rule: 'length' });
    expect(violationOf(() => validateName('x'.repeat(21)))).toMatchObject({ field: 'name', rule: 'length' });
  });

  it('always includes read and refuses unknown authority', () => {
    expect(normaliseAuthority(['trade'])).toEqual(['read', 'trade']);
    expect(normaliseAuthority(['transfer', 'read', 'trade', 'trade'])).toEqual(['read', 'trade', 'transfer']);
    expect(violationOf(() => normaliseAuthority(['admin']))).toMatchObject({ field: 'authority', rule: 'unknown' });
  });

  it('requires an IP for HmacSHA256, for Withdraw and for Transfer', () => {
    expect(violationOf(() => checkKeySettings({ name: 'a', method: 'HmacSHA256', ips: [], authority: ['read'] })).rule).toBe('required_for_hmac');
    expect(violationOf(() => checkKeySettings({ name: 'a', method: 'RSA', ips: [], authority: ['read', 'withdraw'] })).rule).toBe('required_for_withdraw');
    expect(violationOf(() => checkKeySettings({ name: 'a', method: 'RSA', ips: [], authority: ['read', 'transfer'] }))).toMatchObject({
      field: 'ips',
      rule: 'required_for_transfer',
      message: 'Transfer authority needs at least one IP address bound to the key.',
    });
    expect(() => checkKeySettings({ name: 'a', method: 'RSA', ips: [], authority: ['read', 'trade', 'futures'] })).not.toThrow();
    expect(() => checkKeySettings({ name: 'a', method: 'RSA', ips: ['10.0.0.1'], authority: ['read', 'withdraw', 'transfer'] })).not.toThrow();
  });

  it('allows five keys per user', () => {
    expect(() => checkKeyQuota(4)).not.toThrow();
    expect(violationOf(() => checkKeyQuota(5))).toMatchObject({ field: 'keys', rule: 'max_keys' });
  });
});

describe('validity', () => {
  const created = 1_700_000_000_000;
  it('keeps read forever but lapses other authority of an unbound key after 30 days', () => {
    const key = { ips: [], createdAt: created, authority: ['read', 'trade'] as const };
    expect(authorityExpiresAt(key)).toBe(created + UNBOUND_AUTHORITY_LIFETIME_MS);
    expect(effectiveAuthority({ ...key, authority: [...key.authority] }, created + UNBOUND_AUTHORITY_LIFETIME_MS - 1)).toEqual(['read', 'trade']);
    expect(effectiveAuthority({ ...key, authority: [...key.authority] }, created + UNBOUND_AUTHORITY_LIFETIME_MS)).toEqual(['read']);
  });

  it('never gives Withdraw or Transfer to a key without IPs, even one stored with them', () => {
    const key = { ips: [], createdAt: created, authority: ['read', 'trade', 'withdraw', 'transfer'] as const };
    expect(effectiveAuthority({ ...key, authority: [...key.authority] }, created)).toEqual(['read', 'trade']);
    expect(effectiveAuthority({ ...key, ips: ['10.0.0.1'], authority: [...key.authority] }, created)).toEqual(['read', 'trade', 'withdraw', 'transfer']);
  });

  it('is permanent with an IP binding', () => {
    const key = { ips: ['10.0.0.1'], createdAt: created, authority: ['read' as const, 'trade' as const] };
    expect(authorityExpiresAt(key)).toBeNull();
    expect(effectiveAuthority(key, created + 10 * UNBOUND_AUTHORITY_LIFETIME_MS)).toEqual(['read', 'trade']);
  });
});

describe('key material', () => {
  it('makes HMAC secrets of 32 upper-case hex characters, all different', () => {
    const secrets = new Set(Array.from({ length: 100 }, newHmacSecret));
    expect(secrets.size).toBe(100);
    for (const s of secrets) expect(s).toMatch(/^[0-9A-F]{32}$/);
  });

  it('hands out RSA private keys as base64 PKCS#8 without PEM headers, and accepts user public keys', () => {
    const pair = newRsaKeyPair();
    expect(pair.privateKey).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(pair.privateKey.length).toBeGreaterThan(32);
    expect(parseRsaPublicKey(pair.publicKey)).toBe(pair.publicKey);
    const pem = `-----BEGIN PUBLIC KEY-----\n${pair.publicKey.match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`;
    expect(parseRsaPublicKey(pem)).toBe(pair.publicKey);
    expect(violationOf(() => parseRsaPublicKey('hello'))).toMatchObject({ field: 'publicKey', rule: 'format' });
  });
});

describe('audit of a key against the best practices', () => {
  const now = 1_800_000_000_000;
  it('flags withdrawals, a missing IP binding and authority about to lapse', () => {
    const rules = auditRestrictions({ enableWithdrawals: true, ipRestrict: false, createTime: now - 25 * 86_400_000 }, now).map((f) => f.rule);
    expect(rules).toEqual(['withdrawals_enabled', 'no_ip_restriction', 'authority_expiring']);
  });

  it('flags Transfer as it flags withdrawals', () => {
    expect(auditRestrictions({ enableWithdrawals: false, enableTransfer: true, ipRestrict: true, tradingAuthorityExpirationTime: null }, now).map((f) => f.rule)).toEqual(['transfer_enabled']);
  });

  it('is satisfied by a read-and-trade key bound to IPs', () => {
    expect(auditRestrictions({ enableWithdrawals: false, ipRestrict: true, createTime: now - 100 * 86_400_000, tradingAuthorityExpirationTime: null }, now)).toEqual([]);
  });
});
