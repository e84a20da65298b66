import { hash, verify, type Algorithm } from '@node-rs/argon2';

// Algorithm is a const enum, which isolated modules cannot read at run time: 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

export interface Argon2Cost {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** Argon2id (OWASP: m=19 MiB, t=2, p=1 by default); the hash string carries its own parameters and salt. */
export function hashPassword(password: string, cost: Argon2Cost): Promise<string> {
  return hash(password, { algorithm: ARGON2ID, ...cost });
}

export async function verifyPassword(hashed: string, password: string): Promise<boolean> {
  try {
    return await verify(hashed, password);
  } catch {
    return false;
  }
}

/**
 * Verifying against a fixed hash when the user does not exist keeps login time the same for known and
 * unknown usernames, so timing does not reveal which usernames are taken.
 */
export function dummyHash(cost: Argon2Cost): Promise<string> {
  return hashPassword('not-a-real-password-0', cost);
}
