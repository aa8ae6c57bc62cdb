import { describe, expect, it } from 'vitest';
import { explainPermission } from '../../../src/failure/permission.js';

const user = 'deployer';

describe('explainPermission', () => {
  it.each([
    // [server message, statement, object, privilege, hint contains]
    ['permission denied for table secret', 'LOCK TABLE public.secret IN ACCESS SHARE MODE', 'table secret', 'SELECT', 'GRANT SELECT ON public.secret TO "deployer";'],
    ['permission denied for table secret', 'SELECT 0 AS i, count(*)::bigint AS n FROM "public"."secret"', 'table secret', 'SELECT', 'GRANT SELECT ON public.secret TO "deployer";'],
    ['permission denied for table Odd Name', 'COPY "My Schema"."Odd Name" (v) TO stdout;', 'table Odd Name', 'SELECT', 'GRANT SELECT ON "My Schema"."Odd Name" TO "deployer";'],
    ['permission denied for table user', 'SELECT * FROM app."user"', 'table user', 'SELECT', 'GRANT SELECT ON app."user" TO "deployer";'],
    ['permission denied for table migrations', 'UPDATE dbfast.migrations SET status = $1', 'table migrations', 'UPDATE', 'GRANT UPDATE ON dbfast.migrations TO "deployer";'],
    ['permission denied for table t', 'INSERT INTO t VALUES (1)', 'table t', 'INSERT', 'GRANT INSERT ON t TO "deployer";'],
    ['permission denied for table t', 'COPY public.t (a) FROM stdin;', 'table t', 'INSERT', 'GRANT INSERT ON public.t TO "deployer";'],
    ['permission denied for table t', 'ALTER TABLE public.t ADD COLUMN x int', 'table t', 'ownership', 'ALTER TABLE public.t OWNER TO "deployer";'],
    ['permission denied for sequence s_id_seq', "SELECT nextval('s_id_seq')", 'sequence s_id_seq', 'USAGE, SELECT', 'GRANT USAGE, SELECT ON SEQUENCE s_id_seq TO "deployer";'],
    ['permission denied for schema app', 'SELECT * FROM app.t', 'schema app', 'USAGE', 'GRANT USAGE ON SCHEMA app TO "deployer";'],
    ['permission denied for schema app', 'CREATE TABLE app.t (id int)', 'schema app', 'CREATE', 'GRANT CREATE ON SCHEMA app TO "deployer";'],
    ['permission denied for database shop', 'CREATE SCHEMA IF NOT EXISTS dbfast', 'database shop', 'CREATE', 'GRANT CREATE ON DATABASE shop TO "deployer";'],
    ['permission denied for database "shop"\nUser does not have CONNECT privilege.', undefined, 'database shop', 'CONNECT', 'GRANT CONNECT ON DATABASE shop TO "deployer";'],
    ['permission denied for function f', 'SELECT f()', 'function f', 'EXECUTE', 'GRANT EXECUTE ON FUNCTION f TO "deployer";'],
    ['must be owner of database shop', 'ALTER DATABASE "shop" RENAME TO "shop__dbfast_prev"', 'database shop', 'ownership', 'ALTER DATABASE shop OWNER TO "deployer";'],
    ['must be owner of table customer', 'DROP TABLE app.customer', 'table customer', 'ownership', 'ALTER TABLE app.customer OWNER TO "deployer";'],
    ['must be owner of schema app', 'DROP SCHEMA app CASCADE', 'schema app', 'ownership', 'ALTER SCHEMA app OWNER TO "deployer";'],
    ['permission denied to create database', 'CREATE DATABASE "x" TEMPLATE template0', 'databases', 'CREATEDB', 'ALTER ROLE "deployer" CREATEDB;'],
    ['permission denied to rename database', 'ALTER DATABASE a RENAME TO b', 'databases', 'CREATEDB', 'ALTER ROLE "deployer" CREATEDB;'],
    ['permission denied to terminate process', 'SELECT pg_terminate_backend($1)', 'other sessions', 'pg_signal_backend', 'GRANT pg_signal_backend TO "deployer";'],
    ['must be member of role "postgres"', 'ALTER TABLE t OWNER TO postgres', 'role postgres', 'membership in postgres', 'never a superuser'],
    ['permission denied to create extension "postgres_fdw"', 'CREATE EXTENSION postgres_fdw', 'extension postgres_fdw', 'superuser', 'Only a superuser'],
  ] as const)('%s (%s)', (message, statement, object, privilege, hint) => {
    const problem = explainPermission(message, { user, statement });
    expect(problem).toMatchObject({ object, privilege });
    expect(problem?.hint).toContain(hint);
  });

  it('never suggests GRANT of a role it cannot know to be ordinary', () => {
    const problem = explainPermission('must be member of role "postgres"', { user });
    expect(problem?.hint).not.toMatch(/GRANT "postgres" TO "deployer";/);
  });

  it('names a placeholder when the role is unknown, and gives up on other messages', () => {
    expect(explainPermission('permission denied for table t', {})?.hint).toContain('TO <the role dbfast connects as>;');
    expect(explainPermission('relation "t" does not exist', { user })).toBeUndefined();
  });
});
