// Throttling of what an attacker repeats: failed logins, code requests and wrong codes, each counted
// in fixed windows. A window opens at the first event and closes `windowMs` later; once `max` events
// are counted, the action is refused until the window closes.
//
// Logins are counted so that a stranger cannot lock the owner out (see the README, "Guessing"):
// - per account and IP address: one address guessing one account;
// - per IP address: one address guessing many accounts;
// - per account, from addresses the account has never logged in from: many addresses (a botnet)
//   guessing one account. The owner, logging in from an address they used before, is not counted here
//   and so is never held back by it.

export interface ThrottleLimit {
  max: number;
  windowMs: number;
}

const MINUTE = 60 * 1000;

export const THROTTLE_SCOPES = [
  'login_failure:account_ip',
  'login_failure:ip',
  'login_failure:account',
  'email_send:account',
  'email_send:ip',
  'wrong_code:account',
  'wrong_code:ip',
] as const;
export type ThrottleScope = (typeof THROTTLE_SCOPES)[number];

/** Per IP the limits are higher: several people may share one address (an office behind NAT). */
export const THROTTLE_LIMITS: Record<ThrottleScope, ThrottleLimit> = {
  'login_failure:account_ip': { max: 5, windowMs: 15 * MINUTE },
  'login_failure:ip': { max: 20, windowMs: 15 * MINUTE },
  // 30 an hour from new addresses, however many: 720 guesses a day against a password policy of at
  // least 10 characters checked against common passwords.
  'login_failure:account': { max: 30, windowMs: 60 * MINUTE },
  'email_send:account': { max: 10, windowMs: 60 * MINUTE },
  'email_send:ip': { max: 30, windowMs: 60 * MINUTE },
  'wrong_code:account': { max: 10, windowMs: 60 * MINUTE },
  'wrong_code:ip': { max: 30, windowMs: 60 * MINUTE },
};

/** What the user is told they were doing too often. */
export const THROTTLE_ACTIONS: Record<ThrottleScope, string> = {
  'login_failure:account_ip': 'Too many failed logins for this account',
  'login_failure:ip': 'Too many failed logins from your network',
  'login_failure:account': 'Too many failed logins for this account from networks it has not logged in from before',
  'email_send:account': 'Too many verification emails were requested for this account',
  'email_send:ip': 'Too many verification emails were requested from your network',
  'wrong_code:account': 'Too many wrong verification codes were entered for this account',
  'wrong_code:ip': 'Too many wrong verification codes were entered from your network',
};

export interface ThrottleWindow {
  windowStart: number;
  count: number;
}

/** Milliseconds until the action is allowed again, or 0 when it is allowed now. */
export function throttleWaitMs(window: ThrottleWindow | undefined, limit: ThrottleLimit, now: number): number {
  if (!window) return 0;
  const closesAt = window.windowStart + limit.windowMs;
  if (now >= closesAt || window.count < limit.max) return 0;
  return closesAt - now;
}

/** "12 minutes", "45 seconds": how long to wait, rounded up. */
export function describeWait(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
