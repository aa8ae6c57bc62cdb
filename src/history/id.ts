import { randomBytes } from 'node:crypto';

/** A sortable id for a deploy or rollback record: UTC timestamp plus a random suffix. */
export function newDeployId(): string {
  return `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(2).toString('hex')}`;
}
