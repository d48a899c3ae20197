// The fleet's bus on Redis pub/sub, when the fleet has a Redis: publishing costs one command on a
// connection already open, never a database round trip, and no commit queues behind another's
// NOTIFY. Every server subscribes on a connection of its own; channels carry the deployment's key
// prefix, so that fleets (and test runs) sharing one Redis never hear each other. Like every bus here
// it only carries news (storage/postgres-bus.ts): a message lost while Redis is away costs latency.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BusChannel, EventBus } from '../services/event-bus.js';

export class RedisBus implements EventBus {
  readonly #handlers = new Map<string, Array<(payload: string) => void>>();
  readonly #publisher: Redis;
  readonly #subscriber: Redis;

  constructor(
    url: string,
    private readonly prefix: string,
    logger: Logger,
  ) {
    const options = {
      // A publish while Redis is away fails at once (the news is lost, the database has it).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      enableAutoPipelining: true,
      retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
      lazyConnect: true,
    };
    this.#publisher = new Redis(url, options);
    // The subscriber keeps its SUBSCRIBE queued until Redis answers, however long that takes (ioredis
    // would reject a queued command at each failed reconnect), and subscribes again whenever it is ready:
    // ioredis itself resubscribes only the channels Redis had confirmed.
    this.#subscriber = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.#publisher.on('error', () => undefined);
    this.#subscriber.on('error', () => undefined);
    this.#subscriber.on('message', (channel: string, payload: string) => {
      for (const handler of this.#handlers.get(channel) ?? []) handler(payload);
    });
    this.#subscriber.on('ready', () => {
      const channels = [...this.#handlers.keys()];
      if (channels.length > 0) void this.#subscriber.subscribe(...channels).catch(() => undefined);
      logger.debug('Subscribed to the bus on Redis');
    });
  }

  async start(): Promise<void> {
    // A Redis that is away at start is joined when it comes (the servers' signed requests wait for it too).
    await Promise.all([this.#publisher.connect(), this.#subscriber.connect()]).catch(() => undefined);
  }

  async publish(channel: BusChannel, payload: string): Promise<void> {
    await this.#publisher.publish(this.prefix + channel, payload);
  }

  subscribe(channel: BusChannel, handler: (payload: string) => void): void {
    const name = this.prefix + channel;
    const handlers = this.#handlers.get(name);
    if (handlers) {
      handlers.push(handler);
      return;
    }
    this.#handlers.set(name, [handler]);
    void this.#subscriber.subscribe(name).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#publisher.disconnect();
    this.#subscriber.disconnect();
  }
}
