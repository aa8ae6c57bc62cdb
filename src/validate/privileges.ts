import { quoteIdent } from '../pg/quote.js';
import { protectedDatabaseReason } from '../pg/system-databases.js';
import { failed, passed, type CheckResult, type ServerFacts } from './types.js';

/**
 * What deploys and restores need from the role: the target database (or the right to create
 * it), its ownership (to rename or replace it), and CREATEDB (to restore into a side database
 * and swap; without it they restore in place inside one transaction, which still works).
 */
export function checkPrivileges(facts: ServerFacts, remoteName: string): CheckResult[] {
  const { database, currentUser: user } = facts;
  const checks: CheckResult[] = [];
  const refused = protectedDatabaseReason(database, facts.databaseIsTemplate);
  if (refused) {
    checks.push(failed('database', `${refused}; dbfast never deploys to or restores over it`, `Point remotes.${remoteName}.url at the application's own database (create it first if needed: CREATE DATABASE myapp OWNER ${quoteIdent(user)};).`));
  } else if (facts.databaseExists) {
    checks.push(passed('database', `database ${database} exists (owner ${facts.databaseOwner ?? 'unknown'})`));
  } else if (facts.canCreateDatabases) {
    checks.push(passed('database', `database ${database} does not exist yet; ${user} may create it`));
  } else {
    checks.push(
      failed('database', `database ${database} does not exist and ${user} may not create databases`, `As a superuser: CREATE DATABASE ${quoteIdent(database)} OWNER ${quoteIdent(user)};`),
    );
  }
  if (facts.databaseExists) {
    if (facts.ownsDatabase || facts.superuser) {
      checks.push(passed('owner', facts.ownsDatabase ? `${user} owns ${database}` : `${user} is a superuser (${database} is owned by ${facts.databaseOwner})`));
    } else {
      checks.push(
        failed(
          'owner',
          `${database} is owned by ${facts.databaseOwner}, not ${user}: deploys and restores cannot rename or replace it`,
          `As a superuser: ALTER DATABASE ${quoteIdent(database)} OWNER TO ${quoteIdent(user)};`,
          'warning',
        ),
      );
    }
  }
  if (facts.canCreateDatabases) {
    checks.push(passed('createdb', `${user} may create databases (${facts.superuser ? 'superuser' : 'CREATEDB'})`));
  } else {
    checks.push(
      failed(
        'createdb',
        `${user} may not create databases (no CREATEDB): restores and deploys will run in place inside one transaction instead of through a side database`,
        `To restore through a side database and swap, as a superuser: ALTER ROLE ${quoteIdent(user)} CREATEDB;`,
        'warning',
      ),
    );
  }
  return checks;
}
