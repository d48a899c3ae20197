// The form rules of "Create New API", checked as the user types so that Confirm is enabled only for a
// form the server will accept. The server checks them again (src/domain/keys.ts); its words win.
import type { Authority, Method } from './api';

export const MAX_NAME_LENGTH = 20;
export const MAX_IPS = 20;
export const MIN_PASSWORD_LENGTH = 10;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function isIpv6(text: string): boolean {
  if (!text.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(text)) return false;
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

export function isIp(text: string): boolean {
  return IPV4.test(text) || isIpv6(text);
}

export function nameError(name: string): string | undefined {
  const trimmed = name.trim();
  if (trimmed.length === 0) return 'Please enter API name.';
  if (trimmed.length > MAX_NAME_LENGTH) return `The API name must be 1 to ${MAX_NAME_LENGTH} characters long.`;
  return undefined;
}

export function ipsError(ips: string, method: Method, authority: readonly Authority[]): string | undefined {
  if (ips === '') {
    if (method === 'HmacSHA256') return 'IP Address is required for HmacSHA256: enter at least one IP address.';
    if (authority.includes('withdraw')) return 'Withdraw authority needs at least one IP address bound to the key.';
    if (authority.includes('transfer')) return 'Transfer authority needs at least one IP address bound to the key.';
    return undefined;
  }
  if (/\s/.test(ips)) return 'Separate multiple IP addresses with commas, without spaces (for example: 192.168.1.1,192.168.1.2).';
  const entries = ips.split(',');
  const seen = new Set<string>();
  for (const entry of entries) {
    if (entry === '') return 'The IP list has an empty entry: separate addresses with single commas (for example: 192.168.1.1,192.168.1.2).';
    if (!isIp(entry)) return `"${entry.slice(0, 64)}" is not an IPv4 or IPv6 address.`;
    const key = entry.toLowerCase();
    if (seen.has(key)) return `${entry} is listed twice.`;
    seen.add(key);
  }
  if (entries.length > MAX_IPS) return `Bind up to ${MAX_IPS} IPs per API key; the list has ${entries.length}.`;
  return undefined;
}

export function publicKeyError(publicKey: string): string | undefined {
  const text = publicKey.trim();
  if (text === '') return 'Paste your RSA public key (PEM, or base64 SPKI), or untick "Use my own RSA public key".';
  if (text.startsWith('-----BEGIN')) {
    return /^-----BEGIN (RSA )?PUBLIC KEY-----[\s\S]+-----END (RSA )?PUBLIC KEY-----$/.test(text)
      ? undefined
      : 'The key must be a PEM public key, from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----.';
  }
  if (!/^[A-Za-z0-9+/=\s]+$/.test(text)) return 'The key must be a PEM public key or base64 SPKI; it has characters that are neither.';
  return undefined;
}

export function emailError(email: string): string | undefined {
  if (email.trim() === '') return 'Please enter your email address.';
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) return 'Please enter a valid email address, such as you@example.com.';
  return undefined;
}

export function passwordError(password: string): string | undefined {
  if (password === '') return 'Please enter a password.';
  if ([...password].length < MIN_PASSWORD_LENGTH) return `The password must be at least ${MIN_PASSWORD_LENGTH} characters long.`;
  return undefined;
}

export const SIX_DIGITS = /^\d{6}$/;
