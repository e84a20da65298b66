import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { ChatError } from '@chat/protocol';
import pLimit from 'p-limit';

// Algorithm is a const enum, which isolated modules cannot read at run time: 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

export interface Argon2Cost {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** How many hashes run at once per node, and how many may wait for one (more: UNAVAILABLE). */
export interface HashingLimits {
  concurrency: number;
  maxWaiting: number;
}

/** A sign-in or sign-up that found the hasher's queue full is asked to come back after about this long. */
const BUSY_RETRY_MS = 1000;

/**
 * Argon2id (OWASP: m=19 MiB, t=2, p=1 by default); the hash string carries its own parameters and salt.
 *
 * Every hash and verification runs through one concurrency limit per node (p-limit): each costs ~19 MiB and
 * tens of milliseconds of a libuv thread, so a burst of sign-ins must queue, not take all the memory and
 * every thread the rest of the node needs; a queue beyond `maxWaiting` is answered UNAVAILABLE with a hint.
 */
export class PasswordHasher {
  private readonly limit: ReturnType<typeof pLimit>;
  private dummy: Promise<string> | undefined;

  constructor(
    private readonly cost: Argon2Cost,
    private readonly limits: HashingLimits,
  ) {
    this.limit = pLimit(limits.concurrency);
  }

  hash(password: string): Promise<string> {
    return this.run(() => hash(password, { algorithm: ARGON2ID, ...this.cost }));
  }

  verify(hashed: string, password: string): Promise<boolean> {
    return this.run(() => verify(hashed, password).catch(() => false));
  }

  /**
   * Verifying against a fixed hash when the user does not exist keeps login time the same for known and
   * unknown usernames, so timing does not reveal which usernames are taken.
   */
  async verifyAgainstDummy(password: string): Promise<void> {
    this.dummy ??= hash('not-a-real-password-0', { algorithm: ARGON2ID, ...this.cost });
    await this.verify(await this.dummy, password);
  }

  private run<T>(work: () => Promise<T>): Promise<T> {
    if (this.limit.pendingCount >= this.limits.maxWaiting) {
      return Promise.reject(new ChatError('UNAVAILABLE', 'too many sign-ins at once, try again', { retryAfterMs: BUSY_RETRY_MS }));
    }
    return this.limit(work);
  }
}
