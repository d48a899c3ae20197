// The server under test, in a process of its own: the same container and HTTP server that
// `keygate serve` builds, configured from the environment the orchestrator passes, on 127.0.0.1
// with an ephemeral port. It reports its CPU and event-loop usage on request, between phases only.
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildHttpServer } from '../src/http/server.js';
import type { ServerCommand, ServerReply } from './protocol.js';

function reply(message: ServerReply): void {
  process.send?.(message);
}

const config = loadConfig(process.env);
const app = await createApp(config);
const server = buildHttpServer(app);
await server.listen({ host: '127.0.0.1', port: 0 });
// As `keygate serve` does: the periodic jobs run during the benchmark too.
app.jobs.start(config.jobIntervalMs);
// Stalls (a synchronous fsync, a long sweep, GC) show as event-loop delay; reset at every report.
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
// Garbage-collection pauses, to tell them from other stalls.
let gcMs = 0;
let gcMaxMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    gcMaxMs = Math.max(gcMaxMs, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });

process.on('message', (command: ServerCommand) => {
  if (command.type === 'usage') {
    const cpu = process.cpuUsage();
    const loop = performance.eventLoopUtilization();
    reply({ type: 'usage', cpuUs: cpu.user + cpu.system, loopActiveMs: loop.active, loopIdleMs: loop.idle, delayMaxMs: delay.max / 1e6, gcMs, gcMaxMs });
    delay.reset();
    gcMs = 0;
    gcMaxMs = 0;
  } else if (command.type === 'memory') {
    (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    reply({ type: 'memory', rss: memory.rss, heapUsed: memory.heapUsed, subscriptions: app.streams.subscriptions });
  } else if (command.type === 'stop') {
    // A normal exit, so that --cpu-prof can write its profile.
    void server
      .close()
      .then(() => app.close())
      .then(() => process.exit(0));
  }
});
// Without the orchestrator there is nobody to stop us.
process.on('disconnect', () => process.exit(0));

reply({ type: 'ready', port: (server.server.address() as { port: number }).port });
