// LBank's WebSocket API v2 at /ws/V2/, on the HTTP server's own port (the `ws` library on Fastify's
// server). One socket carries any mix of public and private subscriptions, as ccxt pro multiplexes
// every watch on one URL. Keep-alive as LBank: the server pings in JSON and closes a socket that
// answers none for the pong timeout; protocol ping frames are answered by `ws` at once.
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { App } from '../../app.js';
import { canonicalIp } from '../../domain/keys.js';
import { CandleRangeError } from '../../services/candle-source.js';
import { StreamError, type StreamEvent, type StreamSubscriber, type SubscriptionSpec } from '../../services/streams.js';
import { errorFrame, pingFrame, pongFrame, pushFrame, replyFrame } from './frames.js';
import { parseCommand, ProtocolError, type UnsubscribeSpec } from './protocol.js';

export const WS_PATHS = ['/ws/V2/', '/ws/V2'];
/** Frames above this close the socket (1009) without a word; those above the configured limit get an error frame. */
const HARD_FRAME_LIMIT = 1024 * 1024;
/** Client frames waiting to be handled on one socket; beyond it they are refused. */
const MAX_QUEUED_FRAMES = 64;
/** Pings whose pong still counts. */
const PINGS_REMEMBERED = 4;
const CLOSE_POLICY = 1008;
const CLOSE_GOING_AWAY = 1001;

function trustedProxies(addresses: readonly string[]): BlockList | undefined {
  if (addresses.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of addresses) {
    const [address = '', bits] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

function matches(list: BlockList, address: string): boolean {
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  return list.check(plain, isIP(plain) === 6 ? 'ipv6' : 'ipv4');
}

/** The client's address: the socket's, or from X-Forwarded-For when the socket is a trusted proxy (as for HTTP). */
export function clientAddress(request: IncomingMessage, proxies: BlockList | undefined): string {
  let address = request.socket.remoteAddress ?? '';
  if (proxies && matches(proxies, address)) {
    const forwarded = String(request.headers['x-forwarded-for'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    // The rightmost address that is not itself a trusted proxy.
    while (forwarded.length > 0 && matches(proxies, address)) address = forwarded.pop()!;
  }
  return canonicalIp(address) ?? address;
}

class Connection implements StreamSubscriber {
  lastPong: number;
  lastPing: number;
  readonly #pings: string[] = [];
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #corked = false;

  constructor(
    readonly socket: WebSocket,
    readonly ip: string,
    private readonly server: SocketServer,
  ) {
    this.lastPong = this.lastPing = Date.now();
  }

  deliver(event: StreamEvent): void {
    this.send(pushFrame(event, this.server.app.now()));
  }

  ended(_topic: string, spec: SubscriptionSpec, message: string): void {
    this.error(message, { subscribe: spec.channel, ...('pair' in spec ? { pair: spec.pair } : {}) });
  }

  error(message: string, about?: Record<string, string>): void {
    this.send(errorFrame(message, this.server.app.now(), about));
  }

  send(frame: string | Buffer): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    // The pushes of one burst (a feed's run goes to every socket in one go) leave in one write.
    const raw = (this.socket as unknown as { _socket?: Socket })._socket;
    if (raw && !this.#corked) {
      this.#corked = true;
      raw.cork();
      queueMicrotask(() => {
        this.#corked = false;
        raw.uncork();
      });
    }
    this.socket.send(frame, { binary: false });
    // A consumer that does not keep up is let go: its backlog must not grow the server's memory.
    if (this.socket.bufferedAmount > this.server.config.maxBufferedBytes) {
      this.server.app.logger.warn({ ip: this.ip, buffered: this.socket.bufferedAmount }, 'WebSocket client too slow: disconnected');
      this.socket.terminate();
    }
  }

  ping(now: number): void {
    const id = randomUUID();
    this.#pings.push(id);
    if (this.#pings.length > PINGS_REMEMBERED) this.#pings.shift();
    this.lastPing = now;
    this.send(pingFrame(id));
  }

  receive(data: RawData, isBinary: boolean): void {
    const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data instanceof ArrayBuffer ? data.byteLength : data.length;
    const limit = this.server.config.maxFrameBytes;
    if (bytes > limit) return this.error(`frame too large: ${bytes} bytes, at most ${limit}`);
    if (isBinary) return this.error('frames must be text (JSON)');
    if (this.#queued >= MAX_QUEUED_FRAMES) return this.error('too many frames at once: wait for the answers');
    const raw = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    // One frame after another, so that an unsubscription never overtakes its subscription.
    this.#queued++;
    let started = 0;
    this.#queue = this.#queue
      .then(() => {
        started = performance.now();
        this.#action = 'invalid';
        return this.#handle(raw);
      })
      .then(() => this.server.app.metrics.observeWsMessage(this.#action, '0', (performance.now() - started) / 1000))
      .catch((error: unknown) => {
        this.server.app.metrics.observeWsMessage(this.#action, 'error', (performance.now() - started) / 1000);
        if (error instanceof ProtocolError || error instanceof StreamError || error instanceof CandleRangeError) this.error(error.message);
        else {
          this.server.app.logger.error({ err: error }, 'WebSocket frame failed');
          this.error('internal error');
        }
      })
      .finally(() => this.#queued--);
  }

  /** What the frame being handled asked for, as a metrics label: a closed set ("subscribe:depth", "ping"). */
  #action = 'invalid';

  async #handle(raw: string): Promise<void> {
    const command = parseCommand(raw);
    this.#action = 'spec' in command ? `${command.action}:${'request' in command.spec ? command.spec.request : command.spec.channel}` : command.action;
    const hub = this.server.app.streams;
    switch (command.action) {
      case 'ping':
        return this.send(pongFrame(command.id));
      case 'pong':
        if (!this.#pings.includes(String(command.id))) throw new ProtocolError('pong does not answer a ping of this server');
        this.lastPong = Date.now();
        return;
      case 'subscribe': {
        const topics = hub.topicsOf(this);
        const again = [...topics.values()].some((spec) => sameSubscription(spec, command.spec));
        const max = this.server.config.maxSubscriptions;
        if (!again && topics.size >= max) throw new ProtocolError(`at most ${max} subscriptions per connection`);
        if (this.socket.readyState !== WebSocket.OPEN) return;
        await hub.subscribe(this, command.spec);
        // Closed while subscribing: nothing must stay behind.
        if (this.socket.readyState !== WebSocket.OPEN) hub.drop(this);
        return;
      }
      case 'unsubscribe':
        for (const [topic, spec] of hub.topicsOf(this)) if (narrows(command.spec, spec)) hub.unsubscribe(this, topic);
        return;
      case 'request':
        return this.send(replyFrame(await hub.request(command.spec), this.server.app.now()));
    }
  }
}

function sameSubscription(a: SubscriptionSpec, b: SubscriptionSpec): boolean {
  return (
    a.channel === b.channel &&
    ('pair' in a ? a.pair : undefined) === ('pair' in b ? b.pair : undefined) &&
    ('size' in a ? a.size : undefined) === ('size' in b ? b.size : undefined) &&
    ('slot' in a ? a.slot : undefined) === ('slot' in b ? b.slot : undefined)
  );
}

/** Whether an unsubscription covers this subscription: same channel, and the same of whatever else it names. */
function narrows(what: UnsubscribeSpec, spec: SubscriptionSpec): boolean {
  if (what.channel !== spec.channel) return false;
  if (what.pair !== undefined && 'pair' in spec && spec.pair !== what.pair) return false;
  if (what.size !== undefined && 'size' in spec && spec.size !== what.size) return false;
  if (what.slot !== undefined && 'slot' in spec && spec.slot !== what.slot) return false;
  if (what.subscribeKey !== undefined && 'subscribeKey' in spec && spec.subscribeKey !== what.subscribeKey) return false;
  return true;
}

class SocketServer {
  readonly config: App['config']['ws'];
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: HARD_FRAME_LIMIT, perMessageDeflate: false, clientTracking: false });
  readonly #connections = new Set<Connection>();
  readonly #perIp = new Map<string, number>();
  readonly #proxies: BlockList | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(readonly app: App) {
    this.config = app.config.ws;
    this.#proxies = trustedProxies(app.config.trustProxy);
  }

  get connections(): number {
    return this.#connections.size;
  }

  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (!WS_PATHS.includes(path) || this.#closing) {
      socket.end(`HTTP/1.1 ${this.#closing ? '503 Service Unavailable' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    socket.on('error', () => undefined);
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#open(ws, clientAddress(request, this.#proxies)));
  }

  #open(ws: WebSocket, ip: string): void {
    const connection = new Connection(ws, ip, this);
    const count = this.#perIp.get(ip) ?? 0;
    if (count >= this.config.maxSocketsPerIp) {
      connection.error(`at most ${this.config.maxSocketsPerIp} connections from one address`);
      ws.close(CLOSE_POLICY, 'too many connections from this address');
      return;
    }
    this.#perIp.set(ip, count + 1);
    this.#connections.add(connection);
    this.app.metrics.wsSockets.inc();
    this.#startTimer();
    ws.on('message', (data, isBinary) => connection.receive(data, isBinary));
    ws.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return;
      this.app.logger.debug({ err: { message: error.message }, ip }, 'WebSocket error');
    });
    ws.on('close', () => {
      this.#connections.delete(connection);
      this.app.metrics.wsSockets.dec();
      const left = (this.#perIp.get(ip) ?? 1) - 1;
      if (left > 0) this.#perIp.set(ip, left);
      else this.#perIp.delete(ip);
      this.app.streams.drop(connection);
      if (this.#connections.size === 0) this.#stopTimer();
    });
  }

  /** One timer for every socket: pings when due, and closes those silent past the pong timeout. */
  #startTimer(): void {
    if (this.#timer) return;
    const every = Math.min(this.config.pingIntervalMs, 1000, Math.max(50, Math.floor(this.config.pongTimeoutMs / 4)));
    this.#timer = setInterval(() => this.#keepAlive(), every);
    this.#timer.unref();
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #keepAlive(): void {
    const now = Date.now();
    for (const connection of this.#connections) {
      if (now - connection.lastPong > this.config.pongTimeoutMs) {
        connection.error(`no pong for ${Math.round(this.config.pongTimeoutMs / 1000)} s: closing`);
        connection.socket.close(CLOSE_POLICY, 'no pong');
        // A peer that does not answer the close either is cut off.
        setTimeout(() => connection.socket.terminate(), 1000).unref();
        this.#connections.delete(connection);
        continue;
      }
      if (now - connection.lastPing >= this.config.pingIntervalMs) connection.ping(now);
    }
  }

  /** Stops taking sockets and closes those open (the server is stopping). */
  close(): void {
    this.#closing = true;
    this.#stopTimer();
    for (const connection of this.#connections) {
      connection.socket.close(CLOSE_GOING_AWAY, 'server stopping');
      setTimeout(() => connection.socket.terminate(), 500).unref();
    }
  }
}

/** Serves /ws/V2/ on the HTTP server's port. */
export function registerWebSocket(server: FastifyInstance, app: App): void {
  const sockets = new SocketServer(app);
  app.streams.start();
  server.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => sockets.upgrade(request, socket, head));
  // Without an upgrade, /ws/V2/ says what it is.
  for (const path of WS_PATHS) {
    server.get(path, async (_request, reply) => reply.status(426).header('upgrade', 'websocket').send({ error: { code: 'upgrade_required', message: 'This is LBank\'s WebSocket API v2: connect with a WebSocket client.' } }));
  }
  server.addHook('preClose', async () => sockets.close());
}
