// The fleet's bus on Redis pub/sub: news published by one server reaches the others of its prefix,
// never another deployment's, and a server that started while Redis was away hears the bus as soon as
// Redis is there. Real Redis: the shared one under a prefix of this run, and one of the test's own
// for the outage.
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { RedisBus } from '../src/storage/redis-bus.js';
import { ownRedis, SHARED_REDIS_URL, until } from './support/fleet.js';

const logger = pino({ level: 'silent' });

/** Publishes until `heard` says the news arrived (a subscription takes a moment to be confirmed). */
async function publishUntilHeard(bus: RedisBus, heard: () => boolean, ms = 10_000): Promise<void> {
  await until(
    'the news to be heard',
    async () => {
      await bus.publish('keygate_intake', 'btc_usdt').catch(() => undefined);
      return heard() ? true : undefined;
    },
    ms,
  );
}

describe('the bus on Redis', () => {
  it('carries news to the servers of its prefix, and to no other deployment', async () => {
    const prefix = `keygate-test-${randomBytes(4).toString('hex')}:bus:`;
    const publisher = new RedisBus(SHARED_REDIS_URL, prefix, logger);
    const listener = new RedisBus(SHARED_REDIS_URL, prefix, logger);
    const stranger = new RedisBus(SHARED_REDIS_URL, `${prefix}other:`, logger);
    try {
      await Promise.all([publisher.start(), listener.start(), stranger.start()]);
      const heard: string[] = [];
      const overheard: string[] = [];
      listener.subscribe('keygate_intake', (payload) => heard.push(payload));
      stranger.subscribe('keygate_intake', (payload) => overheard.push(payload));
      await publishUntilHeard(publisher, () => heard.length > 0);
      expect(heard[0]).toBe('btc_usdt');
      expect(overheard).toEqual([]);
    } finally {
      await Promise.all([publisher.close(), listener.close(), stranger.close()]);
    }
  });

  it('is joined by a server that started while Redis was away, once Redis is there', async () => {
    const redis = await ownRedis();
    await redis.kill();
    const listener = new RedisBus(redis.url, 'keygate-test:bus:', logger);
    const publisher = new RedisBus(redis.url, 'keygate-test:bus:', logger);
    try {
      await listener.start();
      const heard: string[] = [];
      listener.subscribe('keygate_intake', (payload) => heard.push(payload));
      // Long enough for several failed reconnect attempts (they come every 100 ms to 1 s).
      await new Promise((resume) => setTimeout(resume, 2500));
      await redis.start();
      await publisher.start();
      await publishUntilHeard(publisher, () => heard.length > 0);
      expect(heard[0]).toBe('btc_usdt');
    } finally {
      await Promise.all([publisher.close(), listener.close()]);
      await redis.kill();
    }
  });
});
