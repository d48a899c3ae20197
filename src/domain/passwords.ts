// The password policy: at least 10 characters, not one of the passwords that attackers try first,
// not the account's own email address. (NIST SP 800-63B: length and a blocklist, no composition rules.)

export const MIN_PASSWORD_LENGTH = 10;
/** Long enough for any passphrase; bounded so that hashing cannot be made expensive at will. */
export const MAX_PASSWORD_LENGTH = 256;

/**
 * A small list of the commonest passwords of 10 or more characters (shorter ones fail the length rule),
 * compared case-insensitively. Patterns (one repeated character, keyboard or alphabet runs) are
 * recognised below rather than listed.
 */
const COMMON_PASSWORDS = new Set([
  'password12', 'password123', 'password1234', 'password12345', 'password123456', 'password!!', 'password01',
  'passw0rd123', 'p@ssw0rd123', 'p@ssword123', 'passwordpassword', 'mypassword', 'mypassword1', 'mypassword123',
  'changeme123', 'changeme1234', 'letmein123', 'letmein1234', 'welcome123', 'welcome1234', 'welcome2024', 'welcome2025',
  'iloveyou12', 'iloveyou123', 'iloveyou1234', 'sunshine123', 'princess123', 'football123', 'baseball123', 'superman123',
  'batman12345', 'monkey12345', 'dragon12345', 'master12345', 'shadow12345', 'trustno1234', 'whatever123', 'starwars123',
  'qwerty12345', 'qwerty123456', 'qwertyuiop1', 'qwertyuiop123', 'qwerty1234', 'qwer1234qwer', 'asdf1234asdf', 'zxcvbnm123',
  '1q2w3e4r5t', '1q2w3e4r5t6y', '1qaz2wsx3edc', '1qaz2wsx3edc4rfv', 'zaq12wsxcde3', 'zaq1xsw2cde3', 'q1w2e3r4t5', 'q1w2e3r4t5y6',
  'a1b2c3d4e5', 'abc1234567', 'abcd123456', 'abcde12345', '123456789a', 'a123456789', '1234567890a', '12345678910',
  '123456789abc', '123123123123', '1231231230', '1234512345', '1234554321', '0987654321', '9876543210', '1122334455',
  '11223344556677', '147258369', '1472583690', '159753123456', '6969696969', '7777777777', 'administrator', 'admin12345',
  'admin123456', 'administrator1', 'root123456', 'test123456', 'testtest123', 'computer123', 'internet123', 'samsung123',
  'google1234', 'bitcoin123', 'bitcoin1234', 'crypto1234', 'cryptocurrency', 'blockchain', 'blockchain123', 'trading123',
  'lbank123456', 'keygate123', 'keygate1234', 'secret1234', 'secret12345', 'default123', 'guest12345', 'hello12345',
  'helloworld', 'helloworld1', 'helloworld123', 'loveyou1234', 'michael123', 'jennifer123', 'charlie123', 'jordan2323',
  'liverpool123', 'chelsea123', 'arsenal123', 'manchester', 'pokemon123', 'naruto1234', 'killer1234', 'soccer1234',
]);

const RUNS = ['abcdefghijklmnopqrstuvwxyz', '01234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm', '1qaz2wsx3edc4rfv5tgb'];

export type PasswordRule = 'length' | 'too_long' | 'common' | 'matches_email';

export interface PasswordViolation {
  rule: PasswordRule;
  message: string;
}

function isPattern(lower: string): boolean {
  // A short unit repeated: "aaaaaaaaaa", "1212121212", "abcabcabca".
  for (let size = 1; size <= 5; size++) {
    const unit = lower.slice(0, size);
    if (unit.repeat(Math.ceil(lower.length / size)).startsWith(lower)) return true;
  }
  // A stretch of the alphabet, the digits or a keyboard row, forwards or backwards.
  return RUNS.some((run) => run.includes(lower) || [...run].reverse().join('').includes(lower));
}

/** The first rule the password breaks, or undefined when it is acceptable. */
export function checkPassword(password: string, email?: string): PasswordViolation | undefined {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    return { rule: 'length', message: `The password must be at least ${MIN_PASSWORD_LENGTH} characters long.` };
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return { rule: 'too_long', message: `The password can be at most ${MAX_PASSWORD_LENGTH} characters long.` };
  }
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower) || isPattern(lower)) {
    return { rule: 'common', message: 'This password is too common and is among the first that attackers try; choose another.' };
  }
  if (email) {
    const address = email.toLowerCase();
    const local = address.split('@')[0] ?? '';
    if (lower === address || (local.length >= 4 && lower.startsWith(local) && lower.length - local.length < 4)) {
      return { rule: 'matches_email', message: 'The password must not be your email address.' };
    }
  }
  return undefined;
}
