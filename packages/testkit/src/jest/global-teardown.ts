import { takeStartedServices } from './services-handle';

/** Stops what global setup started (by PID, through the handles it kept) and forgets its URLs. */
export default async function globalTeardown(): Promise<void> {
  const started = takeStartedServices();
  if (!started) return;
  const results = await Promise.allSettled([started.postgres?.stop(), started.redis?.stop()]);
  for (const name of started.envSet) delete process.env[name];
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
}
