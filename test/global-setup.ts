import { findOrStartPostgres } from './postgres.js';

/**
 * Once per test run, before any test process starts: the PostgreSQL the tests use (the machine's
 * on 127.0.0.1:5432, or a private cluster started here and stopped at the end), handed to every
 * test process through the environment they inherit.
 */
export default async function setup(): Promise<() => void> {
  const pg = await findOrStartPostgres();
  if (pg.available) process.env.VIGIL_TEST_PG_URL = pg.url;
  else process.env.VIGIL_TEST_PG_MISSING = pg.reason;
  return () => pg.stop?.();
}
