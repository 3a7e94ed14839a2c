/**
 * Tables of the demo database. It is our own throwaway cluster, so creating tables here is
 * fine; against a user's database the tool never runs DDL.
 */
export const DEMO_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS "UsageBuffer" (
  "userId" text PRIMARY KEY,
  "bandwidth" double precision NOT NULL DEFAULT 0,
  "compute" double precision NOT NULL DEFAULT 0,
  "requests" double precision NOT NULL DEFAULT 0,
  "updatedAt" timestamp
);
CREATE TABLE IF NOT EXISTS "User" (
  id serial PRIMARY KEY,
  name text
);
`;

export const DEMO_USER_COUNT = 100;

/** Seeds users only into an empty table, so running it twice does not duplicate them. */
export const DEMO_SEED_SQL = `
INSERT INTO "User" (name)
SELECT 'user-' || g FROM generate_series(1, ${DEMO_USER_COUNT}) AS g
WHERE NOT EXISTS (SELECT 1 FROM "User");
`;
