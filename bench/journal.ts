// npm run bench:journal [-- --messages N] [--rate R] [--concurrency C]
//
// The fleet issue asks to choose, by measurement, what orders a market's orders and hands a market
// over: PostgreSQL as the journal (an order row per order, committed, then NOTIFY to wake the engine),
// or NATS JetStream as the log (a durable stream per market, published with an acknowledgment, read
// by a consumer). This measures what each costs an order on its way to the engine, in one run on one
// machine: the time from "store this order" to "the engine has it" at a fixed rate, and how many
// orders a second each takes with a fixed number in flight. Both store durably before they
// acknowledge (PostgreSQL: a synchronous commit; JetStream: file storage).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AckPolicy, connect, DeliverPolicy, headers, StorageType, StringCodec, type JetStreamClient, type NatsConnection } from 'nats';
import pg from 'pg';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '5000' },
    rate: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '32' },
    postgres: { type: 'string', default: process.env.KEYGATE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    nats: { type: 'string', default: process.env.KEYGATE_BENCH_NATS_URL ?? 'nats://127.0.0.1:4222' },
  },
});
const MESSAGES = Number(args.messages);
const RATE = Number(args.rate);
const CONCURRENCY = Number(args.concurrency);

/** A journal: `append` resolves once the entry is durable; `onDelivered` fires when the consumer (the engine) has it. */
interface Journal {
  name: string;
  append(id: number, body: string): Promise<void>;
  onDelivered(handler: (id: number) => void): void;
  close(): Promise<void>;
}

const BODY = JSON.stringify({ symbol: 'btc_usdt', type: 'buy', price: '30000.5', amount: '0.001', customerId: randomBytes(8).toString('hex') });

async function postgresJournal(adminUrl: string, grouped: boolean): Promise<Journal> {
  const name = `keygate_bench_journal_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 10 });
  await pool.query('CREATE TABLE journal (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id bigint NOT NULL, body text NOT NULL)');
  const listener = new pg.Client({ connectionString: url.toString() });
  await listener.connect();
  await listener.query('LISTEN journal');
  const handlers: Array<(id: number) => void> = [];
  let last = 0;
  let reading = false;
  let again = false;
  // The engine reads what the notification announced, from where it stopped, as Keygate's does.
  const read = async () => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    do {
      again = false;
      const { rows } = await listener.query<{ seq: string; id: string }>('SELECT seq, id FROM journal WHERE seq > $1 ORDER BY seq LIMIT 1000', [last]);
      for (const row of rows) {
        last = Number(row.seq);
        for (const h of handlers) h(Number(row.id));
      }
      if (rows.length === 1000) again = true;
    } while (again);
    reading = false;
  };
  listener.on('notification', () => void read());
  // Group commit, as Keygate's order intake does (storage/batch-writer.ts): what arrives while a commit
  // is under way goes into the next one, as one multi-row statement.
  let queue: Array<{ id: number; body: string; done: () => void; failed: (e: unknown) => void }> = [];
  let flushing = false;
  const flush = async () => {
    flushing = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      const values = batch.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
      try {
        await pool.query(
          `WITH stored AS (INSERT INTO journal (id, body) VALUES ${values} RETURNING seq) SELECT pg_notify('journal', max(seq)::text) FROM stored`,
          batch.flatMap((e) => [e.id, e.body]),
        );
        for (const e of batch) e.done();
      } catch (error) {
        for (const e of batch) e.failed(error);
      }
    }
    flushing = false;
  };
  return {
    name: grouped ? 'PostgreSQL, group commit (row + NOTIFY)' : 'PostgreSQL, a commit per order (row + NOTIFY)',
    async append(id, body) {
      if (!grouped) {
        // One statement commits the row and queues the notification (delivered at commit).
        await pool.query("WITH stored AS (INSERT INTO journal (id, body) VALUES ($1, $2) RETURNING seq) SELECT pg_notify('journal', seq::text) FROM stored", [id, body]);
        return;
      }
      await new Promise<void>((done, failed) => {
        queue.push({ id, body, done, failed });
        if (!flushing) void flush();
      });
    },
    onDelivered: (handler) => void handlers.push(handler),
    async close() {
      await listener.end();
      await pool.end();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

async function jetStreamJournal(server: string): Promise<Journal> {
  const nc: NatsConnection = await connect({ servers: server });
  const jsm = await nc.jetstreamManager();
  const stream = `KEYGATE_BENCH_${randomBytes(4).toString('hex').toUpperCase()}`;
  const subject = `${stream.toLowerCase()}.btc_usdt`;
  await jsm.streams.add({ name: stream, subjects: [subject], storage: StorageType.File });
  const js: JetStreamClient = nc.jetstream();
  const sc = StringCodec();
  await jsm.consumers.add(stream, { durable_name: 'engine', ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All });
  const consumer = await js.consumers.get(stream, 'engine');
  const messages = await consumer.consume({ max_messages: 1000 });
  const handlers: Array<(id: number) => void> = [];
  void (async () => {
    for await (const m of messages) {
      const id = Number(m.headers?.get('id'));
      for (const h of handlers) h(id);
    }
  })();
  return {
    name: 'NATS JetStream (publish + consumer)',
    async append(id, body) {
      const h = headers();
      h.set('id', String(id));
      // Resolves when the stream has stored the message (its acknowledgment).
      await js.publish(subject, sc.encode(body), { headers: h });
    },
    onDelivered: (handler) => void handlers.push(handler),
    async close() {
      await messages.close();
      await jsm.streams.delete(stream);
      await nc.close();
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Fixed arrival rate: the time from append to delivery, and to the append's acknowledgment. */
async function atRate(journal: Journal, firstId: number): Promise<{ ackP50: number; ackP99: number; deliveredP50: number; deliveredP99: number }> {
  const sent = new Map<number, number>();
  const delivered: number[] = [];
  const acked: number[] = [];
  let done: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  journal.onDelivered((id) => {
    const at = sent.get(id);
    if (at === undefined) return;
    sent.delete(id);
    delivered.push(performance.now() - at);
    if (delivered.length === MESSAGES) done();
  });
  const start = performance.now();
  const appends: Array<Promise<void>> = [];
  for (let i = 0; i < MESSAGES; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resume) => setTimeout(resume, wait));
    const id = firstId + i;
    const t = performance.now();
    sent.set(id, t);
    appends.push(journal.append(id, BODY).then(() => void acked.push(performance.now() - t)));
  }
  await Promise.all(appends);
  await Promise.race([all, new Promise((resume) => setTimeout(resume, 30_000))]);
  delivered.sort((a, b) => a - b);
  acked.sort((a, b) => a - b);
  return { ackP50: percentile(acked, 50), ackP99: percentile(acked, 99), deliveredP50: percentile(delivered, 50), deliveredP99: percentile(delivered, 99) };
}

/** Closed loop: appends per second with a fixed number in flight. */
async function maxThroughput(journal: Journal, firstId: number): Promise<number> {
  let next = firstId;
  const end = firstId + MESSAGES;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < end) await journal.append(next++, BODY);
    }),
  );
  return MESSAGES / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const journals = [await postgresJournal(args.postgres, false), await postgresJournal(args.postgres, true), await jetStreamJournal(args.nats)];
  const rows: string[] = [];
  try {
    let id = 1;
    // Warm-up, then alternate: each journal measured twice, the better round kept.
    for (const j of journals) await maxThroughput(j, (id += MESSAGES));
    const results = new Map<string, { rate: Awaited<ReturnType<typeof atRate>>; max: number }>();
    for (let round = 0; round < 2; round++) {
      for (const j of journals) {
        const rate = await atRate(j, (id += MESSAGES));
        const max = await maxThroughput(j, (id += MESSAGES));
        const best = results.get(j.name);
        if (!best || max > best.max) results.set(j.name, { rate, max });
        process.stderr.write(`${j.name}: ${Math.round(max)}/s; at ${RATE}/s ack p99 ${rate.ackP99.toFixed(2)} ms, delivered p99 ${rate.deliveredP99.toFixed(2)} ms\n`);
      }
    }
    for (const [name, r] of results) {
      rows.push(`| ${name} | ${Math.round(r.max).toLocaleString('en')} | ${r.rate.ackP50.toFixed(2)} / ${r.rate.ackP99.toFixed(2)} | ${r.rate.deliveredP50.toFixed(2)} / ${r.rate.deliveredP99.toFixed(2)} |`);
    }
  } finally {
    for (const j of journals) await j.close();
  }
  process.stdout.write(
    [
      `${MESSAGES} orders per phase; ${CONCURRENCY} in flight for the maximum; ${RATE}/s for the latencies (ms, p50 / p99).`,
      '',
      '| journal | appends/s (max) | durable (ack) p50 / p99 | at the engine p50 / p99 |',
      '| --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
}

await main();
process.exit(0);
