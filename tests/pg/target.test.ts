import { describe, expect, it } from 'vitest';
import { connect } from '../../src/pg/client.js';
import { maskUrl, targetFromUrl, withDatabase } from '../../src/pg/target.js';
import { freshDatabase, local } from '../support/db.js';

describe('targets keep the URL query parameters (sslmode, host, ...)', () => {
  it('targetFromUrl splits the secrets out (user:pw@, ?password=, ?sslpassword=) and keeps every other parameter', () => {
    const inline = targetFromUrl('postgresql://app:p%40ss%3Aw@db.example.com:5433/shop?sslmode=require&application_name=x', undefined, {});
    expect(inline).toMatchObject({ url: 'postgresql://app@db.example.com:5433/shop?sslmode=require&application_name=x', password: 'p@ss:w' });
    const param = targetFromUrl('postgresql://app@db.example.com/shop?sslmode=verify-full&password=s3cret&sslpassword=k%2Bey', undefined, {});
    expect(param).toMatchObject({ url: 'postgresql://app@db.example.com:5432/shop?sslmode=verify-full', password: 's3cret', sslPassword: 'k+ey' });
    // password_env (a password handed over apart from the URL) wins over the URL.
    expect(targetFromUrl('postgresql://app:inline@h/db', 'from-env', {}).password).toBe('from-env');
    expect(withDatabase(inline, 'other db').url).toBe('postgresql://app@db.example.com:5433/other%20db?sslmode=require&application_name=x');
    expect(withDatabase(inline, 'other db').settings.dbname).toBe('other db');
  });

  it('maskUrl masks every secret, in URLs and in key=value settings', () => {
    expect(maskUrl('postgresql://app:pw@h/db?sslpassword=k&sslmode=require')).toBe('postgresql://app:***@h/db?sslpassword=***&sslmode=require');
    expect(maskUrl("host=h password = 'a b' sslpassword=k dbname=d")).toBe('host=h password = *** sslpassword=*** dbname=d');
    expect(maskUrl('postgresql://app:p@ss@h/db')).toBe('postgresql://app:***@h/db');
  });

  it('withDatabase keeps ?host= (a Unix socket): the connection really goes through the socket', async () => {
    const db = await freshDatabase(local);
    const target = withDatabase(targetFromUrl(local.adminUrl), db.name);
    expect(target.url).toContain('?host=');
    const client = await connect(target);
    try {
      const { rows } = await client.query<{ db: string; addr: string | null }>('SELECT current_database() AS db, inet_server_addr()::text AS addr');
      // inet_server_addr() is NULL on a Unix-socket connection.
      expect(rows[0]).toEqual({ db: db.name, addr: null });
    } finally {
      await client.end();
    }
  });
});
