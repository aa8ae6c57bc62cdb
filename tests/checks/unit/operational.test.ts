import { describe, expect, it } from 'vitest';
import { DbfastError } from '../../../src/errors.js';
import { operationalError, toDbfastError, withFailureContext } from '../../../src/failure/operational.js';

function pgError(code: string, message: string, extra: Record<string, string> = {}): Error {
  return Object.assign(new Error(message), { code, severity: 'ERROR', ...extra });
}

function errno(code: string, message: string, extra: Record<string, string> = {}): Error {
  return Object.assign(new Error(message), { code, ...extra });
}

describe('operationalError', () => {
  it.each([
    ['lost connection (driver)', new Error('Connection terminated unexpectedly'), 'CONNECTION_LOST'],
    ['not queryable after a lost connection', new Error('Client has encountered a connection error and is not queryable'), 'CONNECTION_LOST'],
    ['admin shutdown', pgError('57P01', 'terminating connection due to administrator command'), 'CONNECTION_LOST'],
    ['crash shutdown', pgError('57P02', 'terminating connection because of crash of another server process'), 'CONNECTION_LOST'],
    ['starting up', pgError('57P03', 'the database system is starting up'), 'CONNECTION_LOST'],
    ['socket reset', errno('ECONNRESET', 'read ECONNRESET', { syscall: 'read' }), 'CONNECTION_LOST'],
    ['missing privilege', pgError('42501', 'permission denied for table secret'), 'PERMISSION_DENIED'],
    ['server disk full', pgError('53100', 'could not extend file "base/1/2": No space left on device'), 'DISK_FULL'],
    ['too many connections', pgError('53300', 'sorry, too many clients already'), 'SERVER_RESOURCES'],
    ['lock timeout', pgError('55P03', 'canceling statement due to lock timeout'), 'LOCK_TIMEOUT'],
    ['statement timeout', pgError('57014', 'canceling statement due to statement timeout'), 'STATEMENT_CANCELED'],
    ['standby', pgError('25006', 'cannot execute CREATE TABLE in a read-only transaction'), 'SERVER_READ_ONLY'],
    ['deadlock', pgError('40P01', 'deadlock detected'), 'TRANSACTION_CONFLICT'],
    ['io error on the server', pgError('58030', 'could not read block'), 'SERVER_FAULT'],
    ['database dropped meanwhile', pgError('3D000', 'database "x" does not exist'), 'DATABASE_NOT_FOUND'],
    ['local disk full', errno('ENOSPC', 'ENOSPC: no space left on device, write', { syscall: 'write' }), 'DISK_FULL'],
    ['quota', errno('EDQUOT', 'EDQUOT: disk quota exceeded, write'), 'DISK_FULL'],
    ['file permission', errno('EACCES', "EACCES: permission denied, open '/srv/backups/x.json'", { syscall: 'open', path: '/srv/backups/x.json' }), 'FILE_ACCESS_DENIED'],
    ['read-only file system', errno('EROFS', "EROFS: read-only file system, open '/ro/x'", { syscall: 'open', path: '/ro/x' }), 'FILE_ACCESS_DENIED'],
    ['disk i/o', errno('EIO', 'EIO: i/o error, read'), 'IO_ERROR'],
    ['file handles', errno('EMFILE', 'EMFILE: too many open files'), 'SYSTEM_RESOURCES'],
  ])('%s -> %s', (_name, error, code) => {
    const mapped = operationalError(error);
    expect(mapped?.code).toBe(code);
    expect(mapped?.hint).toBeTruthy();
    expect(mapped?.exitCode).toBe(code === 'DATABASE_NOT_FOUND' ? 2 : 1);
    expect(mapped?.cause).toBe(error);
  });

  it.each([
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['syntax error in SQL', pgError('42601', 'syntax error at or near "x"')],
    ['a missing file', errno('ENOENT', "ENOENT: no such file or directory, open 'x'")],
    ['not an error', 'a string'],
  ])('%s stays unmapped (INTERNAL at the CLI)', (_name, error) => {
    expect(operationalError(error)).toBeUndefined();
    expect(toDbfastError(error).code).toBe('INTERNAL');
  });

  it('passes DbfastErrors through', () => {
    const error = new DbfastError('USAGE', 'x');
    expect(toDbfastError(error)).toBe(error);
  });

  it('names the path and what was being done; says where to free space', () => {
    const error = errno('ENOSPC', 'ENOSPC: no space left on device, write', { syscall: 'write' });
    const mapped = operationalError(error, { path: '/srv/backups/staging/x.json', doing: 'writing the backup metadata' });
    expect(mapped?.message).toBe('no space left on the device while writing the backup metadata (/srv/backups/staging/x.json): ENOSPC: no space left on device, write');
    expect(mapped?.hint).toContain('df -h /srv/backups/staging');
  });

  it('uses what a tracked client attached: the role to grant to, the qualified table', () => {
    const error = withFailureContext(pgError('42501', 'permission denied for table migrations'), { user: 'deployer', database: 'shop', statement: 'UPDATE dbfast.migrations SET status = $1' });
    const mapped = operationalError(error);
    expect(mapped?.message).toBe('permission denied (database "shop"): permission denied for table migrations');
    expect(mapped?.hint).toBe('As its owner or a superuser: GRANT UPDATE ON dbfast.migrations TO "deployer";');
    expect(mapped?.details).toMatchObject({ sqlstate: '42501', object: 'table migrations', privilege: 'UPDATE' });
  });

  it("keeps the server's DETAIL and HINT", () => {
    const mapped = operationalError(pgError('42501', 'permission denied to create extension "x"', { hint: 'Must be superuser to create this extension.' }));
    expect(mapped?.message).toContain('HINT: Must be superuser to create this extension.');
  });
});
