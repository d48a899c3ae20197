// What the service reports to Prometheus (docs/metrics.md lists every series). One registry per App,
// never prom-client's global one, so that several apps in one process (the tests) count apart.
// Labels are drawn from closed sets only — route templates, error codes, market symbols, fixed
// names — never an API key, an email, an IP or a raw URL: a flood of odd requests cannot grow the
// registry, and a scrape reveals nothing about any account.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PoolUse } from './storage/database.js';

export type Surface = 'v2' | 'portal' | 'ws' | 'web' | 'ops';

/** Seconds: from a cached signed check (well under a millisecond) to an order waiting for its engine (3 s). */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const QUERY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

const STATEMENTS = new Set(['select', 'insert', 'update', 'delete']);

/** The statement's kind, from its first word: a closed set, whatever the SQL. */
export function statementKind(sql: string): string {
  const word = /^\s*\(?\s*([a-z]+)/i.exec(sql)?.[1]?.toLowerCase() ?? '';
  return STATEMENTS.has(word) ? word : 'other';
}

type Labels<L extends string> = Record<L, string>;
type Sample = { labels: Record<string, string | number>; value: number; metricName?: string };

/**
 * A counter or a histogram whose series are found once and then counted with plain arithmetic, for
 * what every request counts: prom-client validates and hashes the label set at every call, even on a
 * child from `labels()`, which was most of what metrics cost a signed request. It registers with the
 * registry like prom-client's own metrics and is exposed through the same formatter.
 */
class PreboundMetric<L extends string> {
  readonly aggregator = 'sum';
  readonly #series = new Map<string, { labels: Labels<L>; buckets: Float64Array; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    /** The histogram's upper bounds (ascending); none for a counter. */
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The series of these labels (a closed set: the caller keeps what it gets, and asks once). */
  series(labels: Labels<L>): { add(value: number): void } {
    const key = JSON.stringify(labels);
    let entry = this.#series.get(key);
    if (!entry) {
      entry = { labels: { ...labels }, buckets: new Float64Array(this.bounds.length), sum: 0, count: 0 };
      this.#series.set(key, entry);
    }
    const { bounds } = this;
    const counted = entry;
    if (this.type === 'counter') {
      return {
        add(value: number): void {
          counted.count += value;
        },
      };
    }
    return {
      add(value: number): void {
        counted.count++;
        counted.sum += value;
        // Non-cumulative here; the exposition adds them up.
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]!) {
            counted.buckets[i]!++;
            break;
          }
        }
      },
    };
  }

  /** Zeroes every series (their holders keep counting into them). */
  reset(): void {
    for (const entry of this.#series.values()) {
      entry.buckets.fill(0);
      entry.sum = 0;
      entry.count = 0;
    }
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const { labels, buckets, sum, count } of this.#series.values()) {
      if (this.type === 'counter') {
        values.push({ labels, value: count });
        continue;
      }
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += buckets[i]!;
        values.push({ labels: { ...labels, le: bound }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** Statement texts whose series are kept found (beyond, a series is looked up at each statement). */
const MAX_QUERY_SERIES = 2000;

export class Metrics {
  readonly registry = new Registry();
  /** The URL of the metrics' own listener once it listens (KEYGATE_METRICS_PORT). */
  endpoint: string | undefined;

  readonly requests = new PreboundMetric<'surface' | 'method' | 'route' | 'status' | 'code'>(
    'keygate_http_requests_total',
    'Requests answered, by surface, method, route template, HTTP status and outcome code (v2: LBank error_code, 0 on success; portal: the error code, "ok" on success).',
    'counter',
    [],
    this.registry,
  );

  readonly requestDuration = new PreboundMetric<'surface' | 'method' | 'route' | 'result'>(
    'keygate_http_request_duration_seconds',
    "Time from the request's arrival to its answer, by surface, method, route template and result (ok or error).",
    'histogram',
    LATENCY_BUCKETS,
    this.registry,
  );

  readonly signedRefusals = new Counter({
    name: 'keygate_v2_signed_refusals_total',
    help: 'Signed /v2 requests refused before their handler ran, by LBank error code and reason.',
    labelNames: ['code', 'reason'] as const,
    registers: [this.registry],
  });

  readonly ordersPlaced = new Counter({
    name: 'keygate_orders_placed_total',
    help: 'Orders stored with their funds frozen (by the server that took them), per market.',
    labelNames: ['market'] as const,
    registers: [this.registry],
  });

  readonly ordersCancelled = new Counter({
    name: 'keygate_orders_cancelled_total',
    help: 'Orders that became cancelled (asked for, post-only refused, IOC/FOK remainder), counted by the engine that committed it, per market.',
    labelNames: ['market'] as const,
    registers: [this.registry],
  });

  readonly ordersFilled = new Counter({
    name: 'keygate_orders_filled_total',
    help: 'Orders that became wholly filled, counted by the engine that committed it, per market.',
    labelNames: ['market'] as const,
    registers: [this.registry],
  });

  readonly trades = new Counter({
    name: 'keygate_trades_total',
    help: 'Trades committed by the market\'s engine, per market.',
    labelNames: ['market'] as const,
    registers: [this.registry],
  });

  readonly engineLag = new Histogram({
    name: 'keygate_engine_lag_seconds',
    help: 'Time from an order\'s intake (its commit, funds frozen) to the commit of its match by the market\'s engine, per market.',
    labelNames: ['market'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  /** For the WebSocket server: `inc()` when a socket opens, `dec()` when it closes. */
  readonly wsSockets = new Gauge({
    name: 'keygate_ws_sockets',
    help: 'WebSocket connections open now.',
    registers: [this.registry],
  });

  /** For the WebSocket server: `inc()` per subscription taken, `dec()` per subscription dropped (and those of a closing socket). */
  readonly wsSubscriptions = new Gauge({
    name: 'keygate_ws_subscriptions',
    help: 'WebSocket subscriptions held now, over all sockets.',
    registers: [this.registry],
  });

  readonly queryDuration = new PreboundMetric<'pool' | 'statement' | 'result'>(
    'keygate_db_query_duration_seconds',
    'Database statements by pool (main; relaxed: commits that need not wait for the disk), kind (select, insert, update, delete, other) and result.',
    'histogram',
    QUERY_BUCKETS,
    this.registry,
  );

  readonly redisDuration = new PreboundMetric<'command' | 'result'>(
    'keygate_redis_command_duration_seconds',
    "Round trips to the fleet's Redis by command (claim, hit, bump, ping) and result (ok or error).",
    'histogram',
    QUERY_BUCKETS,
    this.registry,
  );

  readonly mailsSent = new Counter({
    name: 'keygate_mails_sent_total',
    help: 'Mails handed to the mail server (or, without SMTP_URL, written to the log).',
    registers: [this.registry],
  });

  readonly mailsFailed = new Counter({
    name: 'keygate_mails_failed_total',
    help: 'Mails the mail server did not take.',
    registers: [this.registry],
  });

  #pools: () => PoolUse[] = () => [];
  #defaults = false;

  constructor() {
    const pools = () => this.#pools();
    new Gauge({
      name: 'keygate_db_pool_connections',
      help: 'Connections of each PostgreSQL pool, by state (total: open; idle: open and free).',
      labelNames: ['pool', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const use of pools()) {
          this.set({ pool: use.pool, state: 'total' }, use.total);
          this.set({ pool: use.pool, state: 'idle' }, use.idle);
        }
      },
    });
    new Gauge({
      name: 'keygate_db_pool_waiting',
      help: 'Queries waiting for a free connection of each PostgreSQL pool.',
      labelNames: ['pool'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const use of pools()) this.set({ pool: use.pool }, use.waiting);
      },
    });
    new Gauge({
      name: 'keygate_db_pool_max',
      help: 'The most connections each PostgreSQL pool opens.',
      labelNames: ['pool'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const use of pools()) this.set({ pool: use.pool }, use.max);
      },
    });
  }

  /** Where the pools' use is read at each scrape. */
  watchPools(read: () => PoolUse[]): void {
    this.#pools = read;
  }

  /** The process's CPU, memory, event-loop lag, GC and handles (prom-client's default metrics), once. */
  collectProcessMetrics(): void {
    if (this.#defaults) return;
    this.#defaults = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * For the WebSocket server: one message answered, by its action (a closed set such as
   * "subscribe:depth", "ping"; never a raw value from the client), with LBank's error code ("0" when
   * it succeeded). Counted with the requests, method "WS", status 101 (the upgraded connection's).
   */
  observeWsMessage(action: string, code: string, seconds: number): void {
    this.observeRequest('ws', 'WS', action, 101, code, seconds);
  }

  /**
   * The series of each label set, found once by one string key (PreboundMetric counts them with plain
   * arithmetic). The label sets are closed (route templates, codes), so the map stays small.
   */
  readonly #requestSeries = new Map<string, { count: { add(value: number): void }; duration: { add(value: number): void } }>();

  /** One answered request; `seconds` from its arrival. */
  observeRequest(surface: Surface, method: string, route: string, status: number, code: string, seconds: number): void {
    const key = `${surface} ${method} ${route} ${status} ${code}`;
    let series = this.#requestSeries.get(key);
    if (!series) {
      const result = status < 400 && (code === '0' || code === 'ok') ? 'ok' : 'error';
      series = {
        count: this.requests.series({ surface, method, route, status: String(status), code }),
        duration: this.requestDuration.series({ surface, method, route, result }),
      };
      this.#requestSeries.set(key, series);
    }
    series.count.add(1);
    series.duration.add(seconds);
  }

  /** A statement's duration as the query builder reports it. */
  observeQuery(pool: string, sql: string, milliseconds: number, failed: boolean): void {
    // By the statement's text: the application's statements are a fixed set, each found once.
    const key = `${pool} ${failed ? 'error' : 'ok'} ${sql}`;
    let series = this.#querySeries.get(key);
    if (!series) {
      series = this.queryDuration.series({ pool, statement: statementKind(sql), result: failed ? 'error' : 'ok' });
      // Statements built with a varying number of values (batches) could make many texts: bounded.
      if (this.#querySeries.size < MAX_QUERY_SERIES) this.#querySeries.set(key, series);
    }
    series.add(milliseconds / 1000);
  }

  readonly #querySeries = new Map<string, { add(value: number): void }>();

  /** Times a Redis round trip. */
  async timeRedis<T>(command: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await run();
      this.#redisSeries(command, 'ok').add((performance.now() - started) / 1000);
      return result;
    } catch (error) {
      this.#redisSeries(command, 'error').add((performance.now() - started) / 1000);
      throw error;
    }
  }

  readonly #redisSeriesByKey = new Map<string, { add(value: number): void }>();

  #redisSeries(command: string, result: 'ok' | 'error'): { add(value: number): void } {
    const key = `${command} ${result}`;
    let series = this.#redisSeriesByKey.get(key);
    if (!series) {
      series = this.redisDuration.series({ command, result });
      this.#redisSeriesByKey.set(key, series);
    }
    return series;
  }

  /** The exposition: Prometheus text format. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
