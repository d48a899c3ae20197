// The hot state a fleet shares through one Redis: replay nonces, rate-limit windows and each key's
// generation. A signed request costs one round trip: one script claims the echostr, counts the key's
// window and returns the key's generation, by which each server knows whether its cached copy of the
// key is current. Nothing here is durable, and nothing needs to be: a Redis that restarts empty is
// noticed (its epoch marker is gone) and no timestamp signed before then is accepted.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { RateCharge } from '../domain/rate-limits.js';
import { SharedStateUnavailableError, type ClaimResult, type KeyState, type ReplayGuard } from '../domain/request-auth.js';
import { findApiKey } from './api-keys.js';
import type { Schema } from './schema.js';

/**
 * Servers' clocks differ a little: a nonce is kept this much longer than its window, so that a server
 * whose clock is behind still finds it. Keeping a nonce longer is harmless.
 */
const CLOCK_SKEW_MS = 1000;
/** How long a command may take before the request fails closed. */
const COMMAND_TIMEOUT_MS = 1000;
const STATE_CACHE_LIMIT = 500_000;

// KEYS: epoch marker, nonce, key generation, rate bucket.
// ARGV: now, sentAt, nonce ttl (ms), rate limit (0: none), rate window (ms), rate member.
// Returns {outcome, epoch, generation}; outcome 0: signed before the epoch, 1: replay, 2: claimed,
// 3: claimed but over the rate limit.
const CLAIM_SCRIPT = `
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
local generation = redis.call('GET', KEYS[3]) or '0'
if tonumber(ARGV[2]) < tonumber(epoch) then return {0, epoch, generation} end
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then return {1, epoch, generation} end
local limit = tonumber(ARGV[4])
if limit > 0 then
  local now = tonumber(ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[5]))
  if redis.call('ZCARD', KEYS[4]) >= limit then return {3, epoch, generation} end
  redis.call('ZADD', KEYS[4], now, ARGV[6])
  redis.call('PEXPIRE', KEYS[4], ARGV[5])
end
return {2, epoch, generation}
`;

// KEYS: rate bucket. ARGV: now, limit, window (ms), member. Returns 1 when counted, 0 when over the limit.
const HIT_SCRIPT = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

interface ScriptedRedis extends Redis {
  keygateClaim(epochKey: string, nonceKey: string, generationKey: string, rateKey: string, now: number, sentAt: number, ttl: number, limit: number, windowMs: number, member: string): Promise<[number, string, string]>;
  keygateHit(rateKey: string, now: number, limit: number, windowMs: number, member: string): Promise<number>;
}

const EPOCH_KEY = 'epoch';

export interface SharedStateOptions {
  url: string;
  prefix: string;
  logger: Logger;
  /** Times each round trip (metrics); `command` is one of claim, hit, bump, ping. */
  time?: <T>(command: string, run: () => Promise<T>) => Promise<T>;
}

/** The connection to the fleet's Redis, and what the rest of Keygate asks of it. */
export class SharedState {
  readonly client: ScriptedRedis;
  readonly #memberPrefix = randomBytes(6).toString('base64url');
  #members = 0;
  /** Keys changed while Redis was away: bumped as soon as it answers again. */
  readonly #unbumped = new Set<string>();

  constructor(private readonly options: SharedStateOptions) {
    const client = new Redis(options.url, {
      keyPrefix: options.prefix,
      // Fail closed and fast: nothing waits in a queue for a Redis that is away.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      // Commands issued in the same turn of the event loop share one write.
      enableAutoPipelining: true,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      lazyConnect: true,
    });
    client.defineCommand('keygateClaim', { numberOfKeys: 4, lua: CLAIM_SCRIPT });
    client.defineCommand('keygateHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    let reported = false;
    client.on('error', (error: Error) => {
      if (reported) return;
      reported = true;
      options.logger.warn({ err: { message: error.message } }, 'Redis is unreachable: signed requests are refused (503) until it answers');
    });
    client.on('ready', () => {
      if (reported) options.logger.info('Redis answers again');
      reported = false;
      if (this.#unbumped.size > 0) void this.bumpGenerations([]).catch(() => undefined);
    });
    this.client = client as ScriptedRedis;
  }

  /** Connects, and marks the start of Redis's memory if it has none (a fresh or restarted Redis). */
  async connect(now: number): Promise<void> {
    await this.client.connect();
    await this.client.set(EPOCH_KEY, String(now), 'NX');
  }

  /** A unique member for a rate window's sorted set. */
  member(now: number): string {
    return `${now}:${this.#memberPrefix}:${(this.#members = (this.#members + 1) % 1_000_000_000)}`;
  }

  #timed<T>(name: string, command: () => Promise<T>): Promise<T> {
    return this.options.time ? this.options.time(name, command) : command();
  }

  async #run<T>(name: string, command: () => Promise<T>): Promise<T> {
    try {
      return await this.#timed(name, command);
    } catch (error) {
      throw new SharedStateUnavailableError(error);
    }
  }

  claim(apiKey: string, echostr: string, now: number, ttlMs: number, sentAt: number, rate: RateCharge | undefined): Promise<[number, string, string]> {
    return this.#run('claim', () =>
      this.client.keygateClaim(EPOCH_KEY, `nonce:${apiKey}:${echostr}`, `gen:${apiKey}`, rate ? `rate:${rate.bucket}` : 'rate:none', now, sentAt, ttlMs, rate?.limit ?? 0, rate?.windowMs ?? 0, this.member(now)),
    );
  }

  /** Counts a request against a window; false when the window is full. */
  async hit(charge: RateCharge, now: number): Promise<boolean> {
    return (await this.#run('hit', () => this.client.keygateHit(`rate:${charge.bucket}`, now, charge.limit, charge.windowMs, this.member(now)))) === 1;
  }

  /** Tells every server that these keys changed: their cached copies are stale from now on. */
  async bumpGenerations(apiKeys: readonly string[]): Promise<void> {
    for (const apiKey of apiKeys) this.#unbumped.add(apiKey);
    if (this.#unbumped.size === 0) return;
    const bumping = [...this.#unbumped];
    await this.#run('bump', async () => {
      const pipeline = this.client.multi();
      for (const apiKey of bumping) pipeline.incr(`gen:${apiKey}`);
      await pipeline.exec();
    });
    for (const apiKey of bumping) this.#unbumped.delete(apiKey);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.#timed('ping', () => this.client.ping())) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

/**
 * Replay protection and key freshness for a fleet. The key's mutable state (status, IPs, authority) is
 * cached per server with the generation it was read at, and read again from the database only when
 * Redis says the key changed (or Redis restarted, which changes its epoch).
 */
export class RedisReplayGuard implements ReplayGuard {
  #states = new Map<string, { version: string; state: KeyState | null }>();

  constructor(
    private readonly shared: SharedState,
    private readonly db: Kysely<Schema>,
    private readonly now: () => number,
  ) {}

  async claim(apiKey: string, echostr: string, expiresAt: number, rate?: RateCharge, sentAt = expiresAt): Promise<ClaimResult> {
    const now = this.now();
    // The ReplayGuard contract: a request already stale at its claim is refused, not remembered.
    if (now >= expiresAt) return { claimed: false };
    const ttl = expiresAt - now + CLOCK_SKEW_MS;
    const [outcome, epoch, generation] = await this.shared.claim(apiKey, echostr, now, ttl, sentAt, rate);
    const current = await this.#state(apiKey, `${epoch}:${generation}`);
    if (outcome === 0) return { claimed: false, signedBeforeReset: true, current };
    return { claimed: outcome >= 2, rateLimited: outcome === 3, current };
  }

  async #state(apiKey: string, version: string): Promise<KeyState | null> {
    const cached = this.#states.get(apiKey);
    if (cached?.version === version) return cached.state;
    const record = await findApiKey(this.db, apiKey);
    const state = record && record.status !== 'deleted' ? { status: record.status, ips: record.ips, authority: record.authority } : null;
    if (this.#states.size >= STATE_CACHE_LIMIT) this.#states = new Map();
    this.#states.set(apiKey, { version, state });
    return state;
  }
}
