// Replay memory: a nonce is refused within its window, forgotten after it, and memory stays bounded.
import { describe, expect, it } from 'vitest';
import { MemoryReplayGuard } from '../src/storage/replay.js';

describe('memory replay guard', () => {
  it('refuses a second claim within the window and accepts one after it', async () => {
    let now = 1_000;
    const guard = new MemoryReplayGuard(() => now);
    expect(await guard.claim('k', 'e1', now + 5000)).toBe(true);
    expect(await guard.claim('k', 'e1', now + 5000)).toBe(false);
    expect(await guard.claim('other', 'e1', now + 5000)).toBe(true);
    now += 5000;
    expect(await guard.claim('k', 'e1', now + 5000)).toBe(true);
  });

  it('forgets expired nonces as new ones arrive', async () => {
    let now = 0;
    const guard = new MemoryReplayGuard(() => now);
    for (let i = 0; i < 20_000; i++) {
      now = i;
      expect(await guard.claim('k', `n${i}`, now + 100)).toBe(true);
    }
    // Only about a window's worth (100) is still remembered, however many were claimed.
    expect(guard.size).toBeLessThanOrEqual(101);
    expect(await guard.claim('k', 'n19999', now + 100)).toBe(false);
    expect(await guard.claim('k', 'n100', now + 100)).toBe(true);
  });
});
