import { randomBytes } from 'node:crypto';

/** RFC 3261 §8.1.1.7: branch IDs begin with the magic cookie `z9hG4bK`. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

// A pool of random bytes refilled in bulk: ids are on the hot path of every request.
let pool = Buffer.alloc(0);
let offset = 0;
function random(n: number): string {
  if (offset + n > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  const s = pool.toString('base64url', offset, offset + n);
  offset += n;
  return s;
}

export function generateBranch(): string {
  return BRANCH_MAGIC_COOKIE + random(12);
}

/** RFC 3261 §19.3: at least 32 bits of randomness. */
export function generateTag(): string {
  return random(9);
}

export function generateCallId(): string {
  return random(18);
}
