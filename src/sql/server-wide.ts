/**
 * Statements that act on the whole server rather than on the database they run in: roles,
 * role membership, server settings, tablespaces, other databases. In a template they would
 * silently reach every database on the developer's server and never travel with a deploy, so a
 * build refuses them and points at `[repository] cluster_setup`.
 */

const ROLE_WORDS = new Set(['ROLE', 'USER', 'GROUP']);

/** `ALTER ROLE name IN DATABASE db SET ...` is a setting of one database, not of the server. */
function inDatabase(words: string[]): boolean {
  const at = words.indexOf('IN');
  return at > 0 && words[at + 1] === 'DATABASE';
}

/**
 * What a statement does to the whole server, named as in a message (`CREATE ROLE`, `GRANT of a
 * role`), or undefined when it acts on its database only. Reads the statement's first words.
 */
export function serverWideStatement(words: string[]): string | undefined {
  const [first, second, third] = words;
  switch (first) {
    case 'CREATE':
    case 'DROP':
      if (second === 'USER' && third === 'MAPPING') return undefined;
      if ((second !== undefined && ROLE_WORDS.has(second)) || second === 'TABLESPACE' || second === 'DATABASE') return `${first} ${second}`;
      return undefined;
    case 'ALTER':
      if (second === 'SYSTEM' || second === 'TABLESPACE') return `ALTER ${second}`;
      if (second === 'USER' && third === 'MAPPING') return undefined;
      if (second !== undefined && ROLE_WORDS.has(second) && !inDatabase(words)) return `ALTER ${second}`;
      return undefined;
    case 'GRANT':
    case 'REVOKE':
      // Object privileges always name their object after ON; role membership has no ON.
      return words.includes('ON') ? undefined : `${first} of a role`;
    case 'COMMENT':
      return second === 'ON' && (third === 'ROLE' || third === 'TABLESPACE') ? `COMMENT ON ${third}` : undefined;
    default:
      return undefined;
  }
}

/** Role names a setup file creates (`CREATE ROLE name`, `CREATE USER "Name"`), as PostgreSQL folds them. */
export function createdRole(words: string[], text: string): string | undefined {
  if (words[0] !== 'CREATE' || words[1] === undefined || !ROLE_WORDS.has(words[1]) || words[2] === 'MAPPING') return undefined;
  const name = /^\s*CREATE\s+(?:ROLE|USER|GROUP)\s+(?:"((?:[^"]|"")+)"|([A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*))/i.exec(text);
  if (!name) return undefined;
  return name[1] !== undefined ? name[1].replaceAll('""', '"') : (name[2] as string).toLowerCase();
}
