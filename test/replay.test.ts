// Replay protection: a nonce is refused within its window and accepted after it; in memory (one
// server) memory stays bounded; in PostgreSQL (many servers) the claim also reads the key's state.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseReplayGuard, MemoryReplayGuard } from '../src/storage/replay.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

describe('memory replay guard', () => {
  it('refuses a second claim within the window and accepts one after it', async () => {
    let now = 1_000;
    const guard = new MemoryReplayGuard(() => now);
    expect((await guard.claim('k', 'e1', now + 5000)).claimed).toBe(true);
    expect((await guard.claim('k', 'e1', now + 5000)).claimed).toBe(false);
    expect((await guard.claim('other', 'e1', now + 5000)).claimed).toBe(true);
    now += 5000;
    expect((await guard.claim('k', 'e1', now + 5000)).claimed).toBe(true);
  });

  it('keeps a nonce while now < expiresAt, and refuses a claim already past its expiry', async () => {
    let now = 1_000;
    const guard = new MemoryReplayGuard(() => now);
    expect((await guard.claim('k', 'e1', 1_010)).claimed).toBe(true);
    now = 1_009;
    expect((await guard.claim('k', 'e1', 1_020)).claimed).toBe(false);
    now = 1_010;
    // A request that reached its claim only at or after its own expiry is stale: refused, not stored.
    expect((await guard.claim('k', 'e2', 1_010)).claimed).toBe(false);
    expect((await guard.claim('k', 'e2', 1_011)).claimed).toBe(true);
    expect((await guard.claim('k', 'e1', 1_020)).claimed).toBe(true);
  });

  it('forgets expired nonces as new ones arrive', async () => {
    let now = 0;
    const guard = new MemoryReplayGuard(() => now);
    for (let i = 0; i < 20_000; i++) {
      now = i;
      expect((await guard.claim('k', `n${i}`, now + 100)).claimed).toBe(true);
    }
    // Only about a window's worth (100) is still remembered, however many were claimed.
    expect(guard.size).toBeLessThanOrEqual(101);
    expect((await guard.claim('k', 'n19999', now + 100)).claimed).toBe(false);
    expect((await guard.claim('k', 'n100', now + 100)).claimed).toBe(true);
  });
});

describe('PostgreSQL replay guard', () => {
  let keygate: RunningKeygate;
  beforeAll(async () => {
    keygate = await startKeygate('postgres');
  });
  afterAll(async () => keygate?.stop());

  it('writes nonces without waiting for the WAL, and everything else with it', async () => {
    const setting = async (db: typeof keygate.app.database.db) => (await sql<{ synchronous_commit: string }>`SHOW synchronous_commit`.execute(db)).rows[0]?.synchronous_commit;
    expect(await setting(keygate.app.database.relaxedDb)).toBe('off');
    expect(await setting(keygate.app.database.db)).toBe('on');
  });

  it('claims once per window and reports the key as it stands, or gone', async () => {
    let now = Date.now();
    const guard = new DatabaseReplayGuard(keygate.app.database.db, () => now);
    const user = await keygate.app.accounts.create('replay@example.com', undefined);
    const { key } = await keygate.app.apiKeys.create(user.id, { name: 'r', method: 'HmacSHA256', ips: '10.0.0.1,10.0.0.2', authority: ['read', 'trade'] });
    expect(await guard.claim(key.apiKey, 'e'.repeat(35), now + 5000)).toEqual({ claimed: true, current: { status: 'enabled', ips: ['10.0.0.1', '10.0.0.2'], authority: ['read', 'trade'] } });
    expect((await guard.claim(key.apiKey, 'e'.repeat(35), now + 5000)).claimed).toBe(false);
    await keygate.app.apiKeys.setStatus(key.apiKey, 'disabled');
    expect((await guard.claim(key.apiKey, 'f'.repeat(35), now + 5000)).current).toMatchObject({ status: 'disabled' });
    now += 5000;
    expect((await guard.claim(key.apiKey, 'e'.repeat(35), now + 5000)).claimed).toBe(true);
    expect(await guard.claim('00000000-0000-4000-8000-000000000000', 'g'.repeat(35), now + 5000)).toEqual({ claimed: true, current: null });
  });

  it('keeps a nonce while now < expiresAt, and refuses a claim already past its expiry', async () => {
    let now = Date.now();
    const start = now;
    const guard = new DatabaseReplayGuard(keygate.app.database.db, () => now);
    const apiKey = '00000000-0000-4000-8000-000000000001';
    expect((await guard.claim(apiKey, 'h'.repeat(35), start + 10)).claimed).toBe(true);
    now = start + 9;
    expect((await guard.claim(apiKey, 'h'.repeat(35), start + 20)).claimed).toBe(false);
    now = start + 10;
    expect((await guard.claim(apiKey, 'i'.repeat(35), start + 10)).claimed).toBe(false);
    const stored = await keygate.app.database.db.selectFrom('replay_nonces').select('echostr').where('api_key', '=', apiKey).execute();
    expect(stored.map((r) => r.echostr)).toEqual(['h'.repeat(35)]);
    expect((await guard.claim(apiKey, 'i'.repeat(35), start + 11)).claimed).toBe(true);
    expect((await guard.claim(apiKey, 'h'.repeat(35), start + 20)).claimed).toBe(true);
  });
});

describe('Redis replay guard (a fleet)', () => {
  let keygate: RunningKeygate;
  let now = Date.now();
  beforeAll(async () => {
    keygate = await startKeygate('postgres', {
      now: () => now,
      env: { REDIS_URL: process.env.KEYGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0', KEYGATE_REDIS_PREFIX: `keygate-test:${process.pid}:${now}:` },
    });
  });
  afterAll(async () => keygate?.stop());

  it('keeps the ReplayGuard contract: kept while now < expiresAt, a stale claim refused, concurrent copies claimed once', async () => {
    const guard = keygate.app.replayGuard;
    const expiresAt = now + 5001;
    // At the last instant the timestamp is accepted, exactly one of many concurrent copies is claimed.
    now = expiresAt - 1;
    const copies = await Promise.all(Array.from({ length: 20 }, () => guard.claim('k-edge', 'e-edge', expiresAt)));
    expect(copies.filter((c) => c.claimed)).toHaveLength(1);
    // At expiresAt the request is stale: refused, not remembered.
    now = expiresAt;
    expect((await guard.claim('k-edge', 'e-late', expiresAt)).claimed).toBe(false);
  });
});
