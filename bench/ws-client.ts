// bench:ws's subscribers, in a process of their own (several run side by side): sockets subscribed to
// depth and trade of one market, recording when each trade push arrives; or idle sockets, to weigh
// what an idle socket costs the server. Only trade frames are read (by their text), so that the
// client spends little on the depth frames it receives.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

export type ClientCommand =
  | { type: 'subscribe'; url: string; sockets: number; market: string; depth: number }
  | { type: 'idle'; url: string; sockets: number }
  | { type: 'record' }
  /** acks: the trade's key (its volume) → when its order was acknowledged (epoch ms, high resolution). */
  | { type: 'finish'; acks: Record<string, number> }
  | { type: 'close' };

export type ClientReply =
  | { type: 'ready'; frames: number }
  /** Latencies in ms of every (trade, socket) delivery whose order was acknowledged, as a histogram of 0.1 ms bins from -100 ms. */
  | { type: 'result'; bins: Array<[number, number]>; deliveries: number; missing: number; maxMs: number; frames: number; bytes: number }
  | { type: 'error'; message: string };

export const BIN_MS = 0.1;
export const BIN_FROM_MS = -100;

const now = () => performance.timeOrigin + performance.now();
const VOLUME = /^\{"trade":\{"volume":([0-9.]+)/;

let sockets: WebSocket[] = [];
let recording = false;
/** Per trade key, when it reached each socket. */
let arrivals = new Map<string, number[]>();
let frames = 0;
let bytes = 0;

function reply(message: ClientReply): void {
  process.send?.(message);
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
    socket.on('message', (data: Buffer) => {
      frames++;
      bytes += data.length;
      // Keep-alive: answer the server's JSON ping.
      if (data[2] === 0x61 && data.toString('latin1', 0, 16).startsWith('{"action":"ping"')) {
        const ping = (JSON.parse(data.toString('utf8')) as { ping: string }).ping;
        socket.send(JSON.stringify({ action: 'pong', pong: ping }));
        return;
      }
      if (!recording || data[2] !== 0x74) return;
      const match = VOLUME.exec(data.toString('latin1', 0, 64));
      if (!match) return;
      const at = now();
      const list = arrivals.get(match[1]!);
      if (list) list.push(at);
      else arrivals.set(match[1]!, [at]);
    });
  });
}

async function subscribe(url: string, count: number, market: string, depth: number): Promise<void> {
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => open(url)));
    for (const socket of batch) {
      socket.send(JSON.stringify({ action: 'subscribe', subscribe: 'depth', depth, pair: market }));
      socket.send(JSON.stringify({ action: 'subscribe', subscribe: 'trade', pair: market }));
    }
    sockets.push(...batch);
  }
}

function finish(acks: Record<string, number>): ClientReply {
  recording = false;
  const bins = new Map<number, number>();
  let deliveries = 0;
  let missing = 0;
  let maxMs = -Infinity;
  for (const [key, ackAt] of Object.entries(acks)) {
    const times = arrivals.get(key) ?? [];
    missing += Math.max(0, sockets.length - times.length);
    for (const at of times) {
      const ms = at - ackAt;
      deliveries++;
      maxMs = Math.max(maxMs, ms);
      const bin = Math.max(0, Math.floor((ms - BIN_FROM_MS) / BIN_MS));
      bins.set(bin, (bins.get(bin) ?? 0) + 1);
    }
  }
  arrivals = new Map();
  return { type: 'result', bins: [...bins], deliveries, missing, maxMs, frames, bytes };
}

process.on('message', (command: ClientCommand) => {
  void (async () => {
    try {
      switch (command.type) {
        case 'subscribe':
          await subscribe(command.url, command.sockets, command.market, command.depth);
          return reply({ type: 'ready', frames });
        case 'idle':
          for (let i = 0; i < command.sockets; i += 50) sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, command.sockets - i) }, () => open(command.url)))));
          return reply({ type: 'ready', frames });
        case 'record':
          arrivals = new Map();
          frames = 0;
          bytes = 0;
          recording = true;
          return reply({ type: 'ready', frames });
        case 'finish':
          return reply(finish(command.acks));
        case 'close':
          for (const socket of sockets) socket.terminate();
          sockets = [];
          return reply({ type: 'ready', frames });
      }
    } catch (error) {
      reply({ type: 'error', message: (error as Error).message });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
reply({ type: 'ready', frames: 0 });
