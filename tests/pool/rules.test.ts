import { describe, expect, it } from 'vitest';
import { describeChange, sameSequences, type ChangeBaseline } from '../../src/pool/changes.js';
import { CloneConcurrency } from '../../src/pool/concurrency.js';
import { parseCreatingApplicationName, parsePoolName, poolDatabaseName } from '../../src/pool/names.js';
import { reapReason, type PooledDatabase } from '../../src/pool/server.js';
import { poolNumbers } from '../../src/pool/settings.js';
import { foldersToWatch } from '../../src/pool/watch.js';
import { poolProject } from './support.js';

const baseline: ChangeBaseline = { inserted: '0', updated: '0', deleted: '0', statsReset: null, properties: 'p', sequences: 'S' };

function pooled(overrides: Partial<PooledDatabase>): PooledDatabase {
  return {
    name: 'app_test__dbfast_ready_0123abcd',
    oid: 1,
    state: 'ready',
    template: 'app_test',
    hex: '0123abcd',
    marker: { template: 'app_test', environment: 'test', templateOid: 7, templateBuiltAt: '', createdAt: '', createdBy: { pid: 1, host: 'h' }, dbfastVersion: '0', baseline },
    comment: null,
    templateOidNow: 7,
    templateComment: null,
    madeAfterTemplate: true,
    holder: null,
    sizeBytes: null,
    ...overrides,
  };
}

describe('pool rules', () => {
  it('names: state and template round-trip, within the room templates leave', () => {
    const name = poolDatabaseName('app_test', 'lease', 'deadbeef');
    expect(name).toBe('app_test__dbfast_lease_deadbeef');
    expect(parsePoolName(name)).toEqual({ template: 'app_test', state: 'lease', hex: 'deadbeef' });
    expect(parsePoolName('app_test__dbfast_build_deadbeef')).toBeUndefined();
    expect(parsePoolName('app_test')).toBeUndefined();
    for (const state of ['ready', 'lease', 'trash', 'kept'] as const) expect(Buffer.byteLength(poolDatabaseName('', state))).toBeLessThanOrEqual(23);
    expect(parseCreatingApplicationName('dbfast creating 0123abcd 16384')).toEqual({ hex: '0123abcd', templateOid: 16384 });
    expect(parseCreatingApplicationName('dbfast pool 12@host')).toBeUndefined();
  });

  it('reapReason: garbage is trash, dead leases, half-made, outdated and pre-restart ready ones; never kept, live leases or current ready ones', () => {
    const none = { creating: [], unsafeBefore: null };
    expect(reapReason(pooled({}), none)).toBeUndefined();
    expect(reapReason(pooled({ templateOidNow: 8 }), none)).toBe('made from an older build of app_test');
    expect(reapReason(pooled({ templateOidNow: null }), none)).toBe('its template app_test no longer exists');
    expect(reapReason(pooled({ marker: undefined }), none)).toBe('left incomplete by a process killed while making it');
    expect(reapReason(pooled({ marker: undefined }), { creating: [{ pid: 9, hex: '0123abcd', templateOid: 7 }], unsafeBefore: null })).toBeUndefined();
    // Without fsync, ready databases made before the server's last start may have lost files.
    const made = (createdAt: string): PooledDatabase => pooled({ marker: { ...(pooled({}).marker as NonNullable<PooledDatabase['marker']>), createdAt } });
    const restarted = { creating: [], unsafeBefore: Date.parse('2026-01-01T12:00:00Z') };
    expect(reapReason(made('2026-01-01T11:59:59Z'), restarted)).toBe('made before the server restarted without fsync (its files may be incomplete)');
    expect(reapReason(made('2026-01-01T12:00:01Z'), restarted)).toBeUndefined();
    expect(reapReason(pooled({ state: 'kept', marker: made('2026-01-01T11:59:59Z').marker }), restarted)).toBeUndefined();
    expect(reapReason(pooled({ state: 'lease', holder: { pid: 5, application: 'dbfast pool 5@h' } }), none)).toBeUndefined();
    expect(reapReason(pooled({ state: 'lease', holder: { pid: 5, application: null }, templateOidNow: 8 }), none)).toBeUndefined();
    expect(reapReason(pooled({ state: 'lease' }), none)).toBe('leased by a process that is gone');
    expect(reapReason(pooled({ state: 'trash' }), none)).toMatch(/waiting to be dropped/);
    expect(reapReason(pooled({ state: 'kept', templateOidNow: null }), none)).toBeUndefined();
  });

  it('clone concurrency: one more clone at a time only while it brings clones per second, tried again later', () => {
    const concurrency = new CloneConcurrency();
    expect(concurrency.limit).toBe(2);
    // Two at a time, 1 s each (2 per second): the level above is unknown, so it is tried.
    for (let i = 0; i < 3; i++) concurrency.record(2, 1000);
    expect(concurrency.limit).toBe(3);
    // Three at a time take 1.5 s each: still 2 per second, no gain, so back to two.
    for (let i = 0; i < 3; i++) concurrency.record(3, 1500);
    expect(concurrency.limit).toBe(2);
    // Two stays while three is known to bring nothing.
    for (let i = 0; i < 3; i++) concurrency.record(2, 1000);
    expect(concurrency.limit).toBe(2);
    // One at a time as fast as two (the disk is the limit): one.
    const saturated = new CloneConcurrency();
    for (let i = 0; i < 3; i++) saturated.record(1, 500);
    for (let i = 0; i < 3; i++) saturated.record(2, 1000);
    expect(saturated.limit).toBe(1);
    // Never above four, whatever the gain.
    const fast = new CloneConcurrency();
    for (let level = 2; level <= 6; level++) for (let i = 0; i < 3; i++) fast.record(fast.limit, 100);
    expect(fast.limit).toBe(4);
    // Measurements of other levels are forgotten after a while, so the climb looks again.
    for (let i = 0; i < 30; i++) concurrency.record(2, 1000);
    expect(concurrency.limit).toBe(3);
  });

  it('describeChange / sameSequences: any moved counter, a reset or other settings; unreadable sequences are never the same', () => {
    const same = { inserted: '0', updated: '0', deleted: '0', statsReset: null, properties: 'p' };
    expect(describeChange(baseline, same)).toBeUndefined();
    expect(describeChange(baseline, { ...same, inserted: '3', deleted: '3' })).toBe('rows were inserted, deleted (pg_stat_database)');
    expect(describeChange(baseline, { ...same, statsReset: '2024-01-01' })).toBe('its statistics were reset');
    expect(describeChange(baseline, { ...same, properties: 'q' })).toMatch(/settings changed/);
    expect(sameSequences('S', 'S')).toBe(true);
    expect(sameSequences(null, null)).toBe(true);
    expect(sameSequences('S', 'T')).toBe(false);
    expect(sameSequences('unreadable', 'unreadable')).toBe(false);
  });

  it('poolNumbers: options > DBFAST_POOL_SIZE > [environments.NAME.pool] > [pool] > defaults', () => {
    const project = poolProject('size = 3\nmax_clones = 9\nlease_timeout_seconds = 2');
    project.writeConfig('[environments.local]\n[environments.test]\n[environments.test.pool]\nsize = 5\n\n[pool]\nsize = 3\nmax_clones = 9\nlease_timeout_seconds = 2\n');
    const config = project.config();
    expect(poolNumbers(config, 'local', {}, {})).toEqual({ size: 3, maxClones: 9, leaseTimeoutMs: 2000 });
    expect(poolNumbers(config, 'test', {}, {}).size).toBe(5);
    expect(poolNumbers(config, 'test', {}, { DBFAST_POOL_SIZE: '0' }).size).toBe(0);
    expect(poolNumbers(config, 'test', { size: 1, maxClones: 2 }, { DBFAST_POOL_SIZE: '0' })).toMatchObject({ size: 1, maxClones: 2 });
    expect(() => poolNumbers(config, 'test', {}, { DBFAST_POOL_SIZE: 'lots' })).toThrow(/DBFAST_POOL_SIZE/);
    expect(() => poolNumbers(config, 'test', { size: -1 })).toThrow(/size must be/);
    const bare = poolProject('');
    bare.writeConfig('[environments.local]\n');
    expect(poolNumbers(bare.config(), 'local', {}, {})).toEqual({ size: 1, maxClones: 16, leaseTimeoutMs: 60_000 });
  });

  it('foldersToWatch: the folders holding SQL files, those between them and the repository, and extras', () => {
    expect(foldersToWatch('/r', ['a/b/x.sql', 'a/c/y.sql', 'z.sql'], ['/cfg']).sort()).toEqual(['/cfg', '/r', '/r/a', '/r/a/b', '/r/a/c']);
  });
});
