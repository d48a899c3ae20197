// Which server runs which market's engine. Runs on every server. Each market has a lease: a
// PostgreSQL advisory lock held on a connection of the server's own (released by PostgreSQL the moment
// that connection or its process dies), plus an epoch in market_leases raised at every take-over, which
// fences a previous holder off. Servers heartbeat into fleet_members and each takes at most its fair
// share, ceil(markets / live servers), preferring the markets that rank it first (rendezvous hashing),
// so markets spread over the fleet and move back when a server joins. A lone SQLite server holds all.
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Market } from '../domain/markets.js';
import type { Metrics } from '../metrics.js';
import type { Database, NamedLocks } from '../storage/database.js';
import { heartbeat, leaveFleet, takeMarketLease } from '../storage/exchange.js';
import { BUS_CHANNELS, type EventBus } from './event-bus.js';
import { MarketEngine } from './market-engine.js';

/** How often a server heartbeats, takes free markets and hands over markets beyond its share. */
export const LEASE_ROUND_MS = 1000;
/** A server not seen for this long no longer counts in the fair share. */
const MEMBER_TIMEOUT_MS = 3000;
/** Engines also look for waiting work this often, in case a bus message was lost. */
const POLL_MS = 250;

function rank(serverId: string, symbol: string): string {
  return createHash('sha256').update(`${serverId}\n${symbol}`).digest('hex');
}

export class MarketLeases {
  readonly serverId = randomUUID();
  readonly #engines = new Map<string, MarketEngine>();
  #locks: NamedLocks | undefined;
  #round: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #rounding: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    private readonly database: Database,
    private readonly markets: readonly Market[],
    private readonly scaleOf: (asset: string) => number,
    private readonly now: () => number,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    bus.subscribe(BUS_CHANNELS.intake, (symbol) => this.#engines.get(symbol)?.wake());
    bus.subscribe(BUS_CHANNELS.cancels, (symbol) => this.#engines.get(symbol)?.wake({ cancels: true }));
  }

  /** Takes this server's first markets before it serves, then keeps its share as the fleet changes. */
  async start(): Promise<void> {
    await this.#openLocks();
    await this.#rebalance();
    this.#round = setInterval(() => {
      this.#rounding = this.#rounding.then(() => this.#rebalance()).catch((error: unknown) => this.logger.warn({ err: error }, 'market lease round failed'));
    }, LEASE_ROUND_MS).unref();
    this.#poll = setInterval(() => {
      // Whatever a lost message (or a server of an older version, which sends no cancels hint) left waiting.
      for (const engine of this.#engines.values()) engine.wake({ cancels: true });
    }, POLL_MS).unref();
  }

  /** The markets this server's engines run now. */
  get held(): string[] {
    return [...this.#engines.keys()].sort();
  }

  engine(symbol: string): MarketEngine | undefined {
    return this.#engines.get(symbol);
  }

  /** Resolves when this server's engines have nothing waiting (tests, shutdown). */
  async idle(): Promise<void> {
    for (const engine of this.#engines.values()) await engine.idle();
  }

  /** Hands every market over: engines finish their batch, locks are released, the server leaves the fleet. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#round);
    clearInterval(this.#poll);
    await this.#rounding.catch(() => undefined);
    await this.#dropAll();
    await this.#locks?.close();
    if (this.database.dialect === 'postgres') await leaveFleet(this.database.db, this.serverId).catch(() => undefined);
  }

  async #dropAll(locks = this.#locks): Promise<void> {
    const engines = [...this.#engines.values()];
    this.#engines.clear();
    await Promise.all(engines.map((e) => e.stop()));
    for (const engine of engines) await locks?.unlock(`market:${engine.symbol}`).catch(() => undefined);
  }

  /** The connection that holds the leases; opened again (next round) when it breaks. */
  async #openLocks(): Promise<void> {
    const locks = await this.database.openLocks(() => {
      this.logger.error('The connection holding this server\'s market leases broke: its engines stop, and the markets are taken again (here or elsewhere) once the database answers');
      if (this.#locks === locks) this.#locks = undefined;
      void this.#dropAll(locks);
      void locks.close();
    });
    this.#locks = locks;
  }

  async #rebalance(): Promise<void> {
    if (this.#stopped) return;
    if (!this.#locks) await this.#openLocks();
    if (!this.#locks) return;
    const now = this.now();
    const members = this.database.dialect === 'postgres' ? await heartbeat(this.database.db, this.serverId, now, now - MEMBER_TIMEOUT_MS) : [this.serverId];
    if (!members.includes(this.serverId)) members.push(this.serverId);
    const share = Math.ceil(this.markets.length / members.length);
    // Markets this server ranks first for come first, then the rest by how well it ranks.
    const position = (symbol: string) => [...members].sort((a, b) => (rank(a, symbol) < rank(b, symbol) ? 1 : -1)).indexOf(this.serverId);
    const preferred = [...this.markets].sort((a, b) => position(a.symbol) - position(b.symbol) || (rank(this.serverId, a.symbol) < rank(this.serverId, b.symbol) ? 1 : -1));

    if (this.#engines.size > share) {
      // One market a round goes back, the one this server ranks lowest, so that the fleet settles
      // without markets bouncing.
      const least = [...preferred].reverse().find((m) => this.#engines.has(m.symbol));
      if (least) await this.#release(least.symbol);
      return;
    }
    for (const market of preferred) {
      if (this.#engines.size >= share || this.#stopped) break;
      if (this.#engines.has(market.symbol)) continue;
      if (await this.#locks.tryLock(`market:${market.symbol}`)) await this.#take(market);
    }
  }

  async #take(market: Market): Promise<void> {
    const epoch = await takeMarketLease(this.database.db, market.symbol, this.serverId, this.now());
    const engine = new MarketEngine({
      database: this.database,
      market,
      scaleOf: this.scaleOf,
      now: this.now,
      bus: this.bus,
      logger: this.logger,
      metrics: this.metrics,
      epoch,
      onStopped: () => {
        if (this.#engines.get(market.symbol) !== engine) return;
        this.#engines.delete(market.symbol);
        void this.#locks?.unlock(`market:${market.symbol}`).catch(() => undefined);
      },
    });
    this.#engines.set(market.symbol, engine);
    await engine.start();
    this.logger.info({ market: market.symbol, epoch }, 'This server now runs the market\'s engine');
  }

  async #release(symbol: string): Promise<void> {
    const engine = this.#engines.get(symbol);
    if (!engine) return;
    this.#engines.delete(symbol);
    await engine.stop();
    await this.#locks?.unlock(`market:${symbol}`);
    this.logger.info({ market: symbol }, 'Handed the market\'s engine over');
  }
}
