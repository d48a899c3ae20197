// Starts Keygate with a real SMTP server and a clock the test moves, for the portal suites.
import { Portal, TestClock } from './portal.js';
import { startKeygate, type RunningKeygate, type StartOptions } from './server.js';
import { MailCatcher } from './smtp.js';
import type { DatabaseKind } from './databases.js';

export interface PortalHarness {
  portal: Portal;
  kg: RunningKeygate;
  mail: MailCatcher;
  clock: TestClock;
  stop(): Promise<void>;
}

export async function startPortal(kind: DatabaseKind, options: Omit<StartOptions, 'now'> & { clock?: TestClock; mail?: MailCatcher } = {}): Promise<PortalHarness> {
  const mail = options.mail ?? (await MailCatcher.start());
  const clock = options.clock ?? new TestClock();
  const kg = await startKeygate(kind, {
    ...options,
    now: clock.now,
    env: {
      SMTP_URL: mail.url,
      MAIL_FROM: 'Keygate <keygate@example.test>',
      // Requests come from 127.0.0.1; tests name their client's address in X-Forwarded-For.
      KEYGATE_TRUST_PROXY: '127.0.0.1',
      // Tests move the server's clock ahead of the real one; signed requests stamped with the real
      // clock must still be inside the window.
      KEYGATE_RECV_WINDOW_MS: '600000',
      ...options.env,
    },
  });
  return {
    portal: new Portal(kg, mail, clock),
    kg,
    mail,
    clock,
    async stop() {
      await kg.stop();
      if (!options.mail) await mail.close();
    },
  };
}
