// Configuration, parsed once at start-up. A bad value stops the start and names the variable.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_CATALOGUE, type MarketCatalogue } from './domain/markets.js';
import { LBANK_RATE_LIMITS, type RateLimits } from './domain/rate-limits.js';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** postgres://… selects PostgreSQL; unset means SQLite in dataDir. */
  databaseUrl: string | undefined;
  /** 32 bytes, or undefined to use (and on first start create) dataDir/master.key. */
  masterKey: Buffer | undefined;
  /** During a master-key rotation: the key being replaced, which still opens (never seals) what it sealed. */
  previousMasterKey: Buffer | undefined;
  recvWindowMs: number;
  /** Proxies whose X-Forwarded-For is believed: addresses or CIDR ranges; empty means none. */
  trustProxy: string[];
  markets: MarketCatalogue;
  logLevel: string;
  /** smtp:// or smtps:// URL of the mail server; undefined writes mails to the log. */
  smtpUrl: string | undefined;
  /** The From of every mail. */
  mailFrom: string;
  /** A portal session ends after this long without a request… */
  sessionIdleMs: number;
  /** …and this long after login in any case. */
  sessionMaxMs: number;
  /** The name an authenticator app shows next to the account. */
  totpIssuer: string;
  /** How often a serving process runs its background jobs (key warnings, sweeping). */
  jobIntervalMs: number;
  /** redis://… : replay nonces, rate limits and key generations shared by a fleet; undefined: kept in this process (SQLite) or in PostgreSQL. */
  redisUrl: string | undefined;
  /** Prefix of every Redis key, so that several deployments (or test runs) can share one Redis. */
  redisPrefix: string;
  rateLimits: RateLimits;
  /** On SIGTERM, how long the server keeps serving (and failing /readyz) before it closes its listener. */
  drainMs: number;
  /** Where GET /metrics is served: nowhere, on the main port, or on a port of its own on 127.0.0.1 (0: any free one). */
  metrics: MetricsAccess;
  ws: WebSocketConfig;
}

/** The WebSocket API (/ws/V2/): push pacing, keep-alive and abuse limits. */
export interface WebSocketConfig {
  /** Pushes of a stream are coalesced: at most one per this interval (the first change goes out at once). */
  pushIntervalMs: number;
  /** The same for tick (24-hour statistics, costlier to compute). */
  tickIntervalMs: number;
  /** How often the server sends {"action":"ping"}. */
  pingIntervalMs: number;
  /** A socket that answers no ping for this long is closed. */
  pongTimeoutMs: number;
  /** Larger client frames are refused with an error frame. */
  maxFrameBytes: number;
  maxSubscriptions: number;
  maxSocketsPerIp: number;
  /** A socket whose unsent data passes this is disconnected (a slow consumer). */
  maxBufferedBytes: number;
}

export type MetricsAccess = { serve: 'off' } | { serve: 'main' } | { serve: 'port'; port: number };

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

const marketCatalogueSchema = z.object({
  assets: z
    .array(
      z.object({
        code: z.string().regex(/^[a-z0-9]{1,16}$/),
        scale: z.number().int().min(0).max(18),
        networks: z
          .array(
            z.object({
              name: z.string().min(1).max(32),
              withdrawFee: z.string().regex(/^\d+(\.\d+)?$/),
              withdrawMin: z.string().regex(/^\d+(\.\d+)?$/),
              depositMin: z.string().regex(/^\d+(\.\d+)?$/).default('0'),
              isDefault: z.boolean().default(false),
            }),
          )
          .min(1),
      }),
    )
    .min(1),
  markets: z
    .array(
      z.object({
        symbol: z.string().regex(/^[a-z0-9]{1,16}_[a-z0-9]{1,16}$/),
        priceAccuracy: z.number().int().min(0).max(18),
        quantityAccuracy: z.number().int().min(0).max(18),
        minTranQua: z.string().regex(/^\d+(\.\d+)?$/),
      }),
    )
    .min(1),
});

function loadMarkets(path: string): MarketCatalogue {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError('KEYGATE_MARKETS', `cannot read ${path} as JSON (${(error as Error).message})`);
  }
  const parsed = marketCatalogueSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError('KEYGATE_MARKETS', `${path}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`);
  }
  const catalogue = parsed.data;
  const codes = new Set(catalogue.assets.map((a) => a.code));
  for (const market of catalogue.markets) {
    for (const code of market.symbol.split('_')) {
      if (!codes.has(code)) throw new ConfigError('KEYGATE_MARKETS', `${path}: market ${market.symbol} uses asset ${code}, which is not listed in assets`);
    }
  }
  return catalogue;
}

const RATE_LIMIT_NAMES = { orders: 'orders', other: 'other', ip: 'publicPerIp' } as const;

/** `off`, or overrides of LBank's limits such as `orders=5000,other=2000,ip=0` (0: unlimited). */
function rateLimits(value: string | undefined): RateLimits {
  const limits = { ...LBANK_RATE_LIMITS };
  if (value === undefined || value.trim() === '') return limits;
  if (value.trim() === 'off') return { ...limits, orders: 0, other: 0, publicPerIp: 0 };
  for (const part of value.split(',')) {
    const match = /^\s*(orders|other|ip)\s*=\s*(\d{1,9})\s*$/.exec(part);
    if (!match) {
      throw new ConfigError('KEYGATE_RATE_LIMITS', `must be "off" or a list such as orders=500,other=200,ip=2000 (requests per 10 s; 0 for unlimited), got "${part.trim().slice(0, 40)}"`);
    }
    limits[RATE_LIMIT_NAMES[match[1] as keyof typeof RATE_LIMIT_NAMES]] = Number(match[2]);
  }
  return limits;
}

/** A master key from a variable: base64 of exactly 32 bytes. */
function masterKeyFrom(env: NodeJS.ProcessEnv, name: string): Buffer | undefined {
  const text = env[name]?.trim();
  if (!text) return undefined;
  const key = parseMasterKey(text);
  if (!key) throw new ConfigError(name, 'must be the base64 encoding of exactly 32 bytes (e.g. `openssl rand -base64 32`)');
  return key;
}

/** Base64 of exactly 32 bytes (surrounding white space ignored), or undefined. */
export function parseMasterKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  return key.length === 32 && key.toString('base64') === trimmed ? key : undefined;
}

function metricsAccess(env: NodeJS.ProcessEnv): MetricsAccess {
  const switched = env.KEYGATE_METRICS?.trim().toLowerCase() || undefined;
  if (switched !== undefined && switched !== 'on' && switched !== 'off') {
    throw new ConfigError('KEYGATE_METRICS', `must be "on" (GET /metrics on the main port) or "off", got "${env.KEYGATE_METRICS!.slice(0, 20)}"`);
  }
  if (env.KEYGATE_METRICS_PORT === undefined || env.KEYGATE_METRICS_PORT === '') return { serve: switched === 'on' ? 'main' : 'off' };
  if (switched === 'off') throw new ConfigError('KEYGATE_METRICS_PORT', 'is set while KEYGATE_METRICS is "off": unset one of them');
  return { serve: 'port', port: integer(env, 'KEYGATE_METRICS_PORT', 0, 0, 65535) };
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must start with postgres:// or postgresql:// (leave it unset for the embedded SQLite database)');
  }

  const masterKey = masterKeyFrom(env, 'KEYGATE_MASTER_KEY');
  const previousMasterKey = masterKeyFrom(env, 'KEYGATE_MASTER_KEY_PREVIOUS');

  const trustProxy = (env.KEYGATE_TRUST_PROXY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const entry of trustProxy) {
    const [address = '', bits] = entry.split('/');
    const kind = isIP(address);
    const maxBits = kind === 4 ? 32 : 128;
    if (kind === 0 || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= maxBits))) {
      throw new ConfigError('KEYGATE_TRUST_PROXY', `"${entry}" is not an IP address or CIDR range (separate several with commas)`);
    }
  }

  const logLevel = env.LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', 'must be one of fatal, error, warn, info, debug, trace, silent');
  }

  const smtpUrl = env.SMTP_URL || undefined;
  if (smtpUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(smtpUrl);
    } catch {
      url = undefined;
    }
    if (!url || !['smtp:', 'smtps:'].includes(url.protocol) || !url.hostname) {
      throw new ConfigError('SMTP_URL', 'must be a URL like smtp://user:password@mail.example.com:587 or smtps://mail.example.com:465 (leave it unset to write mails to the log)');
    }
  }
  const mailFrom = env.MAIL_FROM || 'Keygate <keygate@localhost>';
  if (!/^([^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/.test(mailFrom)) {
    throw new ConfigError('MAIL_FROM', 'must be an address, or a name and an address in angle brackets (e.g. Keygate <keygate@example.com>)');
  }
  const totpIssuer = env.KEYGATE_TOTP_ISSUER || 'Keygate';
  if (totpIssuer.length > 64 || /[:\p{Cc}]/u.test(totpIssuer)) {
    throw new ConfigError('KEYGATE_TOTP_ISSUER', 'must be at most 64 characters, without colons or control characters');
  }
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl !== undefined && !/^rediss?:\/\/[^/]/.test(redisUrl)) {
    throw new ConfigError('REDIS_URL', 'must be a URL like redis://127.0.0.1:6379/0 or rediss://… (leave it unset for a lone server)');
  }
  const redisPrefix = env.KEYGATE_REDIS_PREFIX ?? 'keygate:';
  if (!/^[\w:.-]{0,64}$/.test(redisPrefix)) {
    throw new ConfigError('KEYGATE_REDIS_PREFIX', 'must be at most 64 letters, digits, and the characters _ : . -');
  }
  const sessionIdleMs = integer(env, 'KEYGATE_SESSION_IDLE_MINUTES', 30, 1, 24 * 60) * 60_000;
  const sessionMaxMs = integer(env, 'KEYGATE_SESSION_MAX_HOURS', 12, 1, 30 * 24) * 3_600_000;

  return {
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: env.HOST || '127.0.0.1',
    dataDir: resolve(env.KEYGATE_DATA_DIR || './data'),
    databaseUrl,
    masterKey,
    previousMasterKey,
    recvWindowMs: integer(env, 'KEYGATE_RECV_WINDOW_MS', 5000, 100, 600_000),
    trustProxy,
    markets: env.KEYGATE_MARKETS ? loadMarkets(env.KEYGATE_MARKETS) : DEFAULT_CATALOGUE,
    logLevel,
    smtpUrl,
    mailFrom,
    sessionIdleMs,
    sessionMaxMs,
    totpIssuer,
    jobIntervalMs: integer(env, 'KEYGATE_JOB_INTERVAL_SECONDS', 600, 10, 86_400) * 1000,
    redisUrl,
    redisPrefix,
    rateLimits: rateLimits(env.KEYGATE_RATE_LIMITS),
    drainMs: integer(env, 'KEYGATE_DRAIN_SECONDS', 0, 0, 300) * 1000,
    metrics: metricsAccess(env),
    ws: {
      pushIntervalMs: integer(env, 'KEYGATE_WS_PUSH_INTERVAL_MS', 25, 0, 1000),
      tickIntervalMs: integer(env, 'KEYGATE_WS_TICK_INTERVAL_MS', 1000, 0, 60_000),
      pingIntervalMs: integer(env, 'KEYGATE_WS_PING_INTERVAL_MS', 30_000, 100, 30_000),
      pongTimeoutMs: integer(env, 'KEYGATE_WS_PONG_TIMEOUT_MS', 60_000, 200, 600_000),
      maxFrameBytes: integer(env, 'KEYGATE_WS_MAX_FRAME_BYTES', 4096, 256, 1_048_576),
      maxSubscriptions: integer(env, 'KEYGATE_WS_MAX_SUBSCRIPTIONS', 100, 1, 10_000),
      maxSocketsPerIp: integer(env, 'KEYGATE_WS_MAX_SOCKETS_PER_IP', 50, 1, 1_000_000),
      maxBufferedBytes: integer(env, 'KEYGATE_WS_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 65_536, 1024 * 1024 * 1024),
    },
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** What an operator should hear at start about a configuration that works but is probably not meant. */
export function startupWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.databaseUrl && !config.redisUrl) {
    warnings.push('PostgreSQL without REDIS_URL: replay nonces are checked in the database (a round trip per signed request) and rate limits are counted per server. A fleet should set REDIS_URL.');
  }
  if (!isLoopback(config.host) && config.trustProxy.length === 0) {
    warnings.push(
      `Listening on ${config.host} without KEYGATE_TRUST_PROXY: behind a TLS-terminating proxy the session cookie is sent without the Secure flag, and client addresses are the proxy's. Set KEYGATE_TRUST_PROXY to the proxy's address.`,
    );
  }
  return warnings;
}
