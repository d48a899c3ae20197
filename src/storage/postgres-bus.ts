// The fleet's bus on PostgreSQL's LISTEN/NOTIFY: every server listens on one connection of its own and
// publishes through the pool. A NOTIFY payload holds under 8000 bytes, so longer messages travel in
// parts, sent in one statement (one transaction: delivered together and in order) and joined again.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Schema } from './schema.js';
import type { BusChannel, EventBus } from '../services/event-bus.js';

const PART_BYTES = 7000;

export class PostgresBus implements EventBus {
  readonly #handlers = new Map<string, Array<(payload: string) => void>>();
  readonly #parts = new Map<string, string[]>();
  #listener: pg.Client | undefined;
  #closed = false;
  #sequence = 0;
  readonly #origin = randomBytes(4).toString('hex');

  constructor(
    private readonly url: string,
    /** Publishing needs no durable commit: what a message says is already committed. */
    private readonly db: Kysely<Schema>,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.#listen();
  }

  /** The LISTEN statements sent after the connection opened, one after another. */
  #listening: Promise<void> = Promise.resolve();

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (message) => this.#receive(message.channel, message.payload ?? ''));
    // A broken listening connection is opened again; what was missed meanwhile is in the database.
    client.on('error', () => undefined);
    client.on('end', () => {
      if (this.#closed) return;
      this.logger.warn('The bus connection to PostgreSQL closed; listening again');
      setTimeout(() => void this.#listen().catch(() => undefined), 500).unref();
    });
    await client.connect();
    for (const channel of this.#handlers.keys()) await client.query(`LISTEN ${channel}`);
    this.#listener = client;
  }

  async publish(channel: BusChannel, payload: string): Promise<void> {
    if (Buffer.byteLength(payload) <= PART_BYTES) {
      await sql`SELECT pg_notify(${channel}, ${`=${payload}`})`.execute(this.db);
      return;
    }
    const id = `${this.#origin}${(this.#sequence = (this.#sequence + 1) % 1e9)}`;
    const parts: string[] = [];
    for (let i = 0; i < payload.length; i += PART_BYTES / 4) parts.push(payload.slice(i, i + PART_BYTES / 4));
    const calls = parts.map((part, i) => sql`pg_notify(${channel}, ${`${id}:${i}:${parts.length}:${part}`})`);
    await sql`SELECT ${sql.join(calls)}`.execute(this.db);
  }

  subscribe(channel: BusChannel, handler: (payload: string) => void): void {
    const handlers = this.#handlers.get(channel);
    if (handlers) {
      handlers.push(handler);
      return;
    }
    this.#handlers.set(channel, [handler]);
    const listener = this.#listener;
    if (!listener) return;
    // One statement at a time on the listening connection (pg queues them, but warns).
    this.#listening = this.#listening.then(() => listener.query(`LISTEN ${channel}`)).then(
      () => undefined,
      () => undefined,
    );
  }

  #receive(channel: string, raw: string): void {
    let payload: string | undefined;
    if (raw.startsWith('=')) payload = raw.slice(1);
    else {
      const match = /^(\w+):(\d+):(\d+):/.exec(raw);
      if (!match) return;
      const [head, id, index, count] = match as unknown as [string, string, string, string];
      const parts = this.#parts.get(id) ?? [];
      parts[Number(index)] = raw.slice(head.length);
      this.#parts.set(id, parts);
      if (parts.filter((p) => p !== undefined).length < Number(count)) return;
      this.#parts.delete(id);
      payload = parts.join('');
    }
    for (const handler of this.#handlers.get(channel) ?? []) handler(payload);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#listener?.end().catch(() => undefined);
  }
}
