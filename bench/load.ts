// The load generator, in a process of its own. For every request of every leg it signs a fresh
// parameter set with the project's own client (new echostr, new timestamp), so that client-side
// work is the same in a public leg and in its signed twin. Latency is measured from just before
// the request is written (after signing) to the end of the response.
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { percentile, type Credentials, type Leg, type LoadCommand, type LoadReply, type PhaseResult, type PhaseSpec } from './protocol.js';
import { accepted, RequestFactory } from './requests.js';

const BASE = process.hrtime.bigint();
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
/** Monotonic nanoseconds as a double (exact: relative to process start). */
const now = (): number => Number(process.hrtime.bigint() - BASE);

type Done = (failure: string | undefined, latencyNs: number) => void;

class Sender {
  readonly #host: string;
  readonly #ports: number[];
  #turn = 0;
  // Keep-alive, one socket per request in flight; sockets are reused across phases.
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 512 });
  readonly #requests: RequestFactory;

  constructor(baseUrls: string[], credentials: Credentials) {
    const urls = baseUrls.map((u) => new URL(u));
    for (const url of urls) if (url.hostname !== '127.0.0.1') throw new Error(`refusing to load anything but 127.0.0.1 (got ${url.hostname})`);
    this.#host = '127.0.0.1';
    this.#ports = urls.map((u) => Number(u.port));
    this.#requests = new RequestFactory(baseUrls[0]!, credentials);
  }

  /** Signs and sends one request; returns the time it was handed to the socket. */
  send(leg: Leg, done: Done): number {
    const { method, path, headers, body, serverTurn } = this.#requests.make(leg);
    const start = now();
    let finished = false;
    const finish = (failure: string | undefined) => {
      if (finished) return;
      finished = true;
      done(failure, now() - start);
    };
    // A leg of one server goes there; one of many keys follows its keys' turns (requests.ts); the rest
    // take the servers in turn.
    const port = this.#ports[leg.server ?? (serverTurn ?? this.#turn++) % this.#ports.length]!;
    const request = http.request({ host: this.#host, port, agent: this.#agent, method, path, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => finish(accepted(response.statusCode, text) ? undefined : `HTTP ${response.statusCode}: ${text.slice(0, 300)}`));
      response.on('error', (error) => finish(error.message));
    });
    request.on('error', (error) => finish(error.message));
    request.end(body);
    return start;
  }
}

interface Tally {
  latencies: Float64Array;
  completed: number;
  failed: number;
  firstFailure?: string;
}

function record(tally: Tally, failure: string | undefined, latencyNs: number): void {
  if (failure === undefined) tally.latencies[tally.completed++] = latencyNs;
  else {
    tally.failed++;
    tally.firstFailure ??= failure;
  }
}

function summarise(leg: Leg, tally: Tally, startNs: number, cpuStart: NodeJS.CpuUsage): PhaseResult {
  const elapsedNs = now() - startNs;
  const cpu = process.cpuUsage(cpuStart);
  const sorted = tally.latencies.subarray(0, tally.completed).sort();
  const ms = (ns: number) => ns / 1e6;
  return {
    leg: leg.name,
    completed: tally.completed,
    failed: tally.failed,
    ...(tally.firstFailure !== undefined ? { firstFailure: tally.firstFailure } : {}),
    elapsedMs: ms(elapsedNs),
    throughput: tally.completed / (elapsedNs / 1e9),
    p50Ms: ms(percentile(sorted, 0.5)),
    p99Ms: ms(percentile(sorted, 0.99)),
    maxMs: ms(sorted.length ? sorted[sorted.length - 1]! : NaN),
    clientCpu: (cpu.user + cpu.system) / 1000 / ms(elapsedNs),
    clientCpuUs: (cpu.user + cpu.system) / (tally.completed + tally.failed),
    clientDelayMaxMs: delay.max / 1e6,
  };
}

/** A fixed number of requests in flight for a fixed time (or until maxRequests were sent). */
function closedLoop(sender: Sender, spec: Extract<PhaseSpec, { mode: 'closed' }>): Promise<PhaseResult> {
  const tally: Tally = { latencies: new Float64Array(spec.maxRequests), completed: 0, failed: 0 };
  const cpuStart = process.cpuUsage();
  delay.reset();
  const start = now();
  const deadline = start + spec.seconds * 1e9;
  let issued = 0;
  return new Promise((resolve) => {
    let running = spec.concurrency;
    const next = () => {
      if (issued >= spec.maxRequests || now() >= deadline) {
        if (--running === 0) resolve(summarise(spec.leg, tally, start, cpuStart));
        return;
      }
      issued++;
      sender.send(spec.leg, (failure, latency) => {
        record(tally, failure, latency);
        next();
      });
    };
    for (let i = 0; i < spec.concurrency; i++) next();
  });
}

/**
 * Open loop: request i is due at start + i/rate whatever happened to earlier ones, so a slow
 * server meets more load, not less. A due request leaves at the next turn of the event loop, one
 * per turn, so responses are read between sends (an RSA signature takes a quarter of a
 * millisecond, and a burst of them would otherwise count as server latency). How late requests
 * leave is reported as lag; requests beyond maxInFlight are dropped and counted.
 */
function openLoop(sender: Sender, spec: Extract<PhaseSpec, { mode: 'open' }>): Promise<PhaseResult> {
  const total = Math.round(spec.rate * spec.seconds);
  const interval = 1e9 / spec.rate;
  const tally: Tally = { latencies: new Float64Array(total), completed: 0, failed: 0 };
  const lags = new Float64Array(total);
  const cpuStart = process.cpuUsage();
  delay.reset();
  const start = now();
  let issued = 0;
  let sent = 0;
  let inFlight = 0;
  let dropped = 0;
  return new Promise((resolve) => {
    const finishIfDone = () => {
      if (issued < total || inFlight > 0) return;
      const result = summarise(spec.leg, tally, start, cpuStart);
      resolve({ ...result, lagP99Ms: percentile(lags.subarray(0, sent).sort(), 0.99) / 1e6, dropped });
    };
    const tick = () => {
      const due = start + issued * interval;
      const wait = due - now();
      if (wait > 0) {
        // Millisecond timers, not a polling loop: on a machine this small, a spinning generator
        // would take CPU from the server. Requests may leave up to ~1 ms late (reported as lag).
        setTimeout(tick, Math.max(1, Math.floor(wait / 1e6)));
        return;
      }
      issued++;
      if (inFlight >= spec.maxInFlight) dropped++;
      else {
        inFlight++;
        const sentAt = sender.send(spec.leg, (failure, latency) => {
          inFlight--;
          record(tally, failure, latency);
          finishIfDone();
        });
        lags[sent++] = sentAt - due;
      }
      if (issued < total) setImmediate(tick);
      else finishIfDone();
    };
    tick();
  });
}

let sender: Sender | undefined;

function reply(message: LoadReply): void {
  process.send?.(message);
}

process.on('message', (command: LoadCommand) => {
  void (async () => {
    try {
      if (command.type === 'init') {
        sender = new Sender(command.baseUrls, command.credentials);
        reply({ type: 'ready' });
      } else {
        if (!sender) throw new Error('run before init');
        const phase = command.phase;
        reply({ type: 'result', result: await (phase.mode === 'closed' ? closedLoop(sender, phase) : openLoop(sender, phase)) });
      }
    } catch (error) {
      reply({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
