// API keys: the rules of the seed ("How to create an API key on LBank") and the material a key is made of.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import type { SignatureMethod } from './signing.js';

export const AUTHORITIES = ['read', 'trade', 'withdraw', 'futures', 'transfer'] as const;
export type Authority = (typeof AUTHORITIES)[number];

/**
 * Authority that moves funds out of the account (to an address, or at once and for good to another
 * Keygate account): held only by a key bound to IP addresses, so that a leaked key alone moves nothing.
 */
export const IP_BOUND_AUTHORITIES: readonly Authority[] = ['withdraw', 'transfer'];
const AUTHORITY_NAMES: Record<Authority, string> = { read: 'Read', trade: 'Trade', withdraw: 'Withdraw', futures: 'Futures', transfer: 'Transfer' };

export const MAX_KEYS_PER_USER = 5;
export const MAX_IPS_PER_KEY = 20;
export const MAX_NAME_LENGTH = 20;
/** An RSA key without an IP binding keeps Read forever; its other authority lapses this long after creation. */
export const UNBOUND_AUTHORITY_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

export type KeyStatus = 'enabled' | 'disabled' | 'deleted';

/** A rule of the seed that a request to create or change a key broke. */
export interface KeyRuleViolation {
  field: 'name' | 'method' | 'ips' | 'authority' | 'publicKey' | 'keys';
  rule: string;
  message: string;
}

export class KeyRuleError extends Error {
  constructor(readonly violation: KeyRuleViolation) {
    super(violation.message);
    this.name = 'KeyRuleError';
  }
}

function violation(field: KeyRuleViolation['field'], rule: string, message: string): never {
  throw new KeyRuleError({ field, rule, message });
}

/** Canonical text of an IP address, so that the whitelist and the client address compare as strings. */
export function canonicalIp(address: string): string | undefined {
  const kind = isIP(address);
  if (kind === 4) return address;
  if (kind !== 6) return undefined;
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  // An IPv4-mapped IPv6 address is the IPv4 client it stands for.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] && isIP(mapped[1]) === 4) return mapped[1];
  const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mappedHex?.[1] && mappedHex[2]) {
    const hi = parseInt(mappedHex[1], 16);
    const lo = parseInt(mappedHex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return canonical;
}

/**
 * Parses the IP whitelist as the seed's form takes it: addresses separated by commas, no spaces.
 * An empty string means no binding.
 */
export function parseIpList(input: string): string[] {
  if (input === '') return [];
  if (/\s/.test(input)) {
    violation('ips', 'no_spaces', 'Separate multiple IP addresses with commas, without spaces (for example: 192.168.1.1,192.168.1.2).');
  }
  const entries = input.split(',');
  const ips: string[] = [];
  for (const entry of entries) {
    if (entry === '') {
      violation('ips', 'format', 'The IP list has an empty entry: separate addresses with single commas (for example: 192.168.1.1,192.168.1.2).');
    }
    const ip = canonicalIp(entry);
    if (ip === undefined) {
      violation('ips', 'format', `"${entry.slice(0, 64)}" is not an IPv4 or IPv6 address; write addresses separated by commas (for example: 192.168.1.1,192.168.1.2).`);
    }
    if (ips.includes(ip)) violation('ips', 'duplicate', `${entry} is listed twice.`);
    ips.push(ip);
  }
  if (ips.length > MAX_IPS_PER_KEY) {
    violation('ips', 'max_ips', `Bind up to ${MAX_IPS_PER_KEY} IPs per API key; the list has ${ips.length}.`);
  }
  return ips;
}

export function validateName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > MAX_NAME_LENGTH) {
    violation('name', 'length', `The API name must be 1 to ${MAX_NAME_LENGTH} characters long.`);
  }
  if ([...trimmed].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) violation('name', 'characters', 'The API name cannot contain control characters.');
  return trimmed;
}

/** Read is always on; the list is returned in the canonical order without duplicates. */
export function normaliseAuthority(requested: readonly string[]): Authority[] {
  for (const item of requested) {
    if (!(AUTHORITIES as readonly string[]).includes(item)) {
      violation('authority', 'unknown', `Unknown authority "${item.slice(0, 32)}"; choose from ${AUTHORITIES.join(', ')}.`);
    }
  }
  return AUTHORITIES.filter((a) => a === 'read' || requested.includes(a));
}

export interface KeySettings {
  name: string;
  method: SignatureMethod;
  ips: string[];
  authority: Authority[];
}

/** Checks the rules that tie method, IPs and authority together (the seed's form and its tips). */
export function checkKeySettings(settings: KeySettings): void {
  if (settings.method === 'HmacSHA256' && settings.ips.length === 0) {
    violation('ips', 'required_for_hmac', 'An HmacSHA256 key needs at least one IP address (IP Address is required for HmacSHA256).');
  }
  if (settings.ips.length > 0) return;
  for (const authority of IP_BOUND_AUTHORITIES) {
    if (settings.authority.includes(authority)) {
      violation('ips', `required_for_${authority}`, `${AUTHORITY_NAMES[authority]} authority needs at least one IP address bound to the key.`);
    }
  }
}

export function checkKeyQuota(activeKeys: number): void {
  if (activeKeys >= MAX_KEYS_PER_USER) {
    violation('keys', 'max_keys', `Each account can hold up to ${MAX_KEYS_PER_USER} API key pairs; delete one before creating another.`);
  }
}

/** When the key's non-read authority lapses, or null when it is permanent. */
export function authorityExpiresAt(key: { ips: readonly string[]; createdAt: number }): number | null {
  return key.ips.length > 0 ? null : key.createdAt + UNBOUND_AUTHORITY_LIFETIME_MS;
}

/**
 * The authority a key holds at a given moment. A key without IPs never holds the IP-bound authority,
 * even if it was stored with it (before Transfer needed IPs, or by a change made in the database).
 */
export function effectiveAuthority(key: { ips: readonly string[]; createdAt: number; authority: readonly Authority[] }, now: number): Authority[] {
  if (key.ips.length > 0) return [...key.authority];
  const expiresAt = authorityExpiresAt(key);
  if (expiresAt !== null && now >= expiresAt) return ['read'];
  return key.authority.filter((authority) => !IP_BOUND_AUTHORITIES.includes(authority));
}

export function newApiKeyId(): string {
  return randomUUID();
}

/** 128 bits from the CSPRNG, as 32 upper-case hex characters (the form of screen 5). */
export function newHmacSecret(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

export interface RsaKeyMaterial {
  /** Base64 PKCS#8 DER with no PEM header: what ccxt and LBank's SDKs load as the secret key. */
  privateKey: string;
  /** Base64 SPKI DER; the only part the server keeps. */
  publicKey: string;
}

export function newRsaKeyPair(): RsaKeyMaterial {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  };
}

/** Accepts a user's RSA public key as PEM or base64 SPKI DER; returns it as base64 SPKI DER. */
export function parseRsaPublicKey(input: string): string {
  const text = input.trim();
  let key: KeyObject;
  try {
    key = text.startsWith('-----BEGIN')
      ? createPublicKey(text)
      : createPublicKey({ key: Buffer.from(text.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
  } catch {
    violation('publicKey', 'format', 'The public key must be an RSA public key in PEM form or base64 SPKI (DER).');
  }
  const refused = rsaCostViolation(key);
  if (refused) throw new KeyRuleError(refused);
  return key.export({ format: 'der', type: 'spki' }).toString('base64');
}

export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 4096;
export const RSA_PUBLIC_EXPONENT = 65537n;

/**
 * Verifying a signature costs what the key makes it cost: a large modulus or public exponent would let
 * the key's owner make every request expensive (even with the key disabled: the signature is checked
 * first). Only the sizes clients use, with the exponent every RSA tool uses, are accepted.
 */
function rsaCostViolation(key: KeyObject): KeyRuleViolation | undefined {
  if (key.asymmetricKeyType !== 'rsa') return { field: 'publicKey', rule: 'type', message: 'The public key must be an RSA key.' };
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    return { field: 'publicKey', rule: 'size', message: `The RSA key must have ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits; this one has ${bits}.` };
  }
  if (key.asymmetricKeyDetails?.publicExponent !== RSA_PUBLIC_EXPONENT) {
    return { field: 'publicKey', rule: 'exponent', message: `The RSA key's public exponent must be ${RSA_PUBLIC_EXPONENT} (the default of every RSA tool).` };
  }
  return undefined;
}

/** A stored public key, ready to verify; undefined for one stored before the cost rule that breaks it (it verifies nothing). */
export function rsaPublicKeyObject(spkiBase64: string): KeyObject | undefined {
  const key = createPublicKey({ key: Buffer.from(spkiBase64, 'base64'), format: 'der', type: 'spki' });
  return rsaCostViolation(key) ? undefined : key;
}

/** Loads an RSA private key given as base64 PKCS#8 DER (the form handed out) or PEM. */
export function rsaPrivateKeyObject(input: string): KeyObject {
  const text = input.trim();
  return text.startsWith('-----BEGIN')
    ? createPrivateKey(text)
    : createPrivateKey({ key: Buffer.from(text.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'pkcs8' });
}
