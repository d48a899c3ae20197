// A raw WebSocket client for tests: every frame it receives, parsed, and a way to wait for one.
import WebSocket from 'ws';

export type Frame = Record<string, unknown>;

export interface TestSocket {
  socket: WebSocket;
  frames: Frame[];
  /** The frames as text, as they came. */
  raw: string[];
  send(message: unknown): void;
  /** The first frame received (already or later) that matches, after skipping `from` frames. */
  next(match: (frame: Frame) => boolean, options?: { timeoutMs?: number; from?: number }): Promise<Frame>;
  /** Resolves when the server closes the socket, with the close code. */
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export function wsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/^http/, 'ws')}/ws/V2/`;
}

export async function openSocket(baseUrl: string, options: { answerPings?: boolean; headers?: Record<string, string> } = {}): Promise<TestSocket> {
  const socket = new WebSocket(wsUrl(baseUrl), { headers: options.headers ?? {} });
  const frames: Frame[] = [];
  const raw: string[] = [];
  const waiters: Array<() => void> = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  socket.on('message', (data) => {
    const text = (data as Buffer).toString('utf8');
    const frame = JSON.parse(text) as Frame;
    raw.push(text);
    frames.push(frame);
    if (options.answerPings !== false && frame.action === 'ping') socket.send(JSON.stringify({ action: 'pong', pong: frame.ping }));
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const next = (match: (frame: Frame) => boolean, { timeoutMs = 10_000, from = 0 } = {}) =>
    new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames.slice(from)).slice(0, 2000)}`)), timeoutMs);
      const look = () => {
        const found = frames.slice(from).find(match);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        } else waiters.push(look);
      };
      look();
    });
  return {
    socket,
    frames,
    raw,
    send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
    next,
    closed,
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await closed;
    },
  };
}
