// What the benchmarks' processes say to each other over their IPC channels, and the statistics
// they share. An orchestrator (auth.ts, orders.ts, through harness.ts) drives a server (server.ts)
// and a load generator (load.ts), each in its own process so that client and server never share
// an event loop (and, before them, two calibrate.ts processes that measure the machine).
import type { ChildProcess } from 'node:child_process';
import type { SignatureMethod } from '../src/domain/signing.js';

/** An API key the load generator signs with. */
export interface SigningKey {
  apiKey: string;
  secret: string;
  method: SignatureMethod;
}

/** The generator's keys by name; legs refer to them by these names. */
export type Credentials = Record<string, SigningKey>;

/**
 * What a leg sends. Every request of every leg is signed afresh (new echostr, new timestamp):
 * public: GET /v2/timestamp.do (the signature sent as ignored query parameters, so the client does
 * the work of its signed twin); restrictions: POST /v2/supplement/api_Restrictions.do;
 * order: POST /v2/supplement/create_order.do, the next order of the order flow (order-flow.ts).
 */
export type Target = 'public' | 'restrictions' | 'order';

export interface Leg {
  name: string;
  target: Target;
  /** Names of the keys it signs with: one, or for an order leg one per trader of the order flow. */
  keys: readonly string[];
  /**
   * Warm-up by count rather than time: this many requests first (a leg of many keys sends one per key,
   * so that it is measured with its working set in use, as a server's is in steady state).
   */
  warmRequests?: number;
  /**
   * Only this server of the run (by index) instead of every server in turn: a --metrics run starts two
   * servers alike but for metrics, on at the second, and measures them leg against leg.
   */
  server?: number;
}

/** closed: a fixed number of requests in flight, as fast as they come back. open: a fixed arrival rate. */
export type PhaseSpec =
  | { leg: Leg; mode: 'closed'; concurrency: number; seconds: number; maxRequests: number }
  | { leg: Leg; mode: 'open'; rate: number; seconds: number; maxInFlight: number };

export interface PhaseResult {
  leg: Leg['name'];
  completed: number;
  failed: number;
  firstFailure?: string;
  elapsedMs: number;
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Load generator CPU time over wall time (1 = one core busy). */
  clientCpu: number;
  /** Load generator CPU time per request (signing, HTTP), µs. */
  clientCpuUs: number;
  /** The load generator's own event-loop stalls: if large, latencies include client delay. */
  clientDelayMaxMs: number;
  /** open mode: how late requests left against their schedule (p99), and how many were skipped because maxInFlight was reached. */
  lagP99Ms?: number;
  dropped?: number;
}

/** `baseUrls`: one server, or a fleet's servers, which the generator sends to in turn (a round-robin load balancer). */
export type LoadCommand = { type: 'init'; baseUrls: string[]; credentials: Credentials } | { type: 'run'; phase: PhaseSpec };
export type LoadReply = { type: 'ready' } | { type: 'result'; result: PhaseResult } | { type: 'error'; message: string };

export type ServerCommand = { type: 'usage' } | { type: 'memory' } | { type: 'stop' };
/**
 * usage: cumulative CPU time (µs) and event-loop busy/idle time (ms); since the previous usage
 * report, the longest event-loop stall and the garbage collector's total and longest pause (ms).
 */
export type ServerReply =
  | { type: 'ready'; port: number }
  /** memory: after a full garbage collection when the server runs with --expose-gc (bench:ws). */
  | { type: 'memory'; rss: number; heapUsed: number; subscriptions: number }
  | { type: 'usage'; cpuUs: number; loopActiveMs: number; loopIdleMs: number; delayMaxMs: number; gcMs: number; gcMaxMs: number };

/** Sends a command to a child and resolves with its next message; rejects if the child dies or takes too long. */
export function ask<Reply>(child: ChildProcess, command: object | undefined, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: unknown) => {
      cleanup();
      resolve(message as Reply);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`child process ${child.pid} exited (code ${code}) before answering`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`child process ${child.pid} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (command !== undefined) child.send(command);
  });
}

/** Nearest-rank percentile of ascending-sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return percentile(sorted, 0.5);
}
