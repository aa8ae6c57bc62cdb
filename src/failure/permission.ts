/** A missing privilege, as dbfast explains it: what was refused, which privilege, what to run. */
export interface PermissionProblem {
  /** The object the server named, e.g. `table public.secret`, `database shop`, `databases`. */
  object: string;
  /** The privilege or attribute that is missing: SELECT, CONNECT, CREATEDB, ownership, ... */
  privilege: string;
  /** What to run or change, with the role named when known. */
  hint: string;
}

export interface PermissionContext {
  /** The role the failing session used. */
  user?: string | undefined;
  /**
   * The statement that failed, or its first words (`LOCK TABLE public.secret ...`, `COPY ...
   * TO stdout`, `CONNECT`): picks the privilege and gives the qualified name.
   */
  statement?: string | undefined;
}

const TABLE_KINDS = new Set(['table', 'view', 'materialized view', 'foreign table', 'relation']);
const KINDS = [
  'materialized view', 'foreign table', 'foreign-data wrapper', 'foreign server', 'large object', 'text search configuration',
  'text search dictionary', 'event trigger', 'statistics object', 'operator class', 'operator family', 'table', 'view', 'sequence',
  'schema', 'database', 'function', 'procedure', 'routine', 'aggregate', 'type', 'domain', 'language', 'tablespace', 'collation',
  'conversion', 'extension', 'publication', 'subscription', 'index', 'operator', 'relation', 'column',
];
const KIND_PATTERN = KINDS.map((kind) => kind.replace(/[-\s]/g, (c) => `\\${c}`)).join('|');

function unquote(name: string): string {
  const trimmed = name.trim().replace(/[.;]+$/, '');
  return /^"(.*)"$/.test(trimmed) ? trimmed.slice(1, -1).replaceAll('""', '"') : trimmed;
}

// PostgreSQL's reserved key words: a name spelled like one needs quotes even in lower case.
const RESERVED = new Set(('all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create ' +
  'current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc distinct do else end ' +
  'except false fetch for foreign from grant group having in initially intersect into lateral leading limit localtime localtimestamp ' +
  'not null offset on only or order placing primary references returning select session_user some symmetric system_user table then ' +
  'to trailing true union unique user using variadic when where window with').split(' '));

/**
 * A name quoted for a statement shown to a person in a hint, never sent to a server (what is
 * sent is quoted by pg/quote.ts; failure/ sits below pg/ and may not import it).
 */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A name as a person would type it in a statement shown in a hint: quoted only when it must be. */
export function sqlName(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : quoteIdent(name);
}

const PART = '(?:"(?:[^"]|"")+"|[A-Za-z_][\\w$]*)';

/** The schema-qualified name the statement uses for `name` (`public.secret` for `secret`), else `name`, either way as typed. */
function qualified(name: string, statement: string | undefined): string {
  if (statement) {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const found = new RegExp(`(${PART})\\.(?:"${escaped.replaceAll('"', '""')}"|${escaped})(?![\\w$"])`).exec(statement);
    if (found?.[1]) return `${sqlName(unquote(found[1]))}.${sqlName(name)}`;
  }
  return sqlName(name);
}

/** The table privilege a statement needs, from its first words. */
function tablePrivilege(statement: string | undefined): string {
  const text = (statement ?? '').trim().toUpperCase();
  if (/^COPY\b[\s\S]*\bFROM\b/.test(text) || text.startsWith('INSERT')) return 'INSERT';
  if (text.startsWith('UPDATE')) return 'UPDATE';
  if (text.startsWith('DELETE')) return 'DELETE';
  if (text.startsWith('TRUNCATE')) return 'TRUNCATE';
  if (text.startsWith('ALTER') || text.startsWith('DROP') || text.startsWith('CREATE')) return 'ownership';
  // SELECT, COPY ... TO, LOCK ... ACCESS SHARE (pg_dump), count(*): reading.
  return 'SELECT';
}

const ALTER_KIND: Record<string, string> = { 'materialized view': 'MATERIALIZED VIEW', 'foreign table': 'FOREIGN TABLE', relation: 'TABLE', 'foreign server': 'SERVER', 'foreign-data wrapper': 'FOREIGN DATA WRAPPER', 'large object': 'LARGE OBJECT' };

/**
 * Explains a permission error (SQLSTATE 42501, or the same text in pg_dump's output): names
 * the object and the missing privilege, and says what to grant. Undefined when the message
 * is none of the forms PostgreSQL uses. Never suggests membership in a role that could be a
 * superuser: role membership is only suggested by checks that know the role's attributes.
 */
export function explainPermission(message: string, context: PermissionContext = {}): PermissionProblem | undefined {
  const user = context.user ? quoteIdent(context.user) : '<the role dbfast connects as>';
  const statement = context.statement;
  let match = new RegExp(`permission denied for (${KIND_PATTERN}) ("(?:[^"]|"")+"|[^\\n]+)`).exec(message);
  if (match) {
    const kind = match[1] as string;
    const name = unquote(match[2] as string);
    const object = `${kind} ${name}`;
    if (TABLE_KINDS.has(kind)) {
      const privilege = tablePrivilege(statement);
      const target = qualified(name, statement);
      if (privilege === 'ownership') return { object, privilege, hint: `Only the owner of ${target} (or a superuser) may change it: run dbfast as that owner, or as a superuser: ALTER TABLE ${target} OWNER TO ${user};` };
      return { object, privilege, hint: `As its owner or a superuser: GRANT ${privilege} ON ${target} TO ${user};` };
    }
    if (kind === 'sequence') return { object, privilege: 'USAGE, SELECT', hint: `As its owner or a superuser: GRANT USAGE, SELECT ON SEQUENCE ${qualified(name, statement)} TO ${user};` };
    if (kind === 'schema') {
      const creating = /^\s*CREATE\b/i.test(statement ?? '');
      const privilege = creating ? 'CREATE' : 'USAGE';
      return { object, privilege, hint: `As the schema's owner or a superuser: GRANT ${privilege} ON SCHEMA ${sqlName(name)} TO ${user};` };
    }
    if (kind === 'database') {
      const connecting = /CONNECT privilege/i.test(message) || /^\s*CONNECT\b/i.test(statement ?? '');
      const privilege = connecting ? 'CONNECT' : /^\s*CREATE\s+TEMP/i.test(statement ?? '') ? 'TEMPORARY' : 'CREATE';
      const why = privilege === 'CREATE' ? ' (needed to create schemas, such as dbfast\'s own bookkeeping schema, and extensions)' : '';
      return { object, privilege, hint: `As the database's owner or a superuser: GRANT ${privilege} ON DATABASE ${sqlName(name)} TO ${user};${why}` };
    }
    if (kind === 'function' || kind === 'procedure' || kind === 'routine' || kind === 'aggregate') {
      return { object, privilege: 'EXECUTE', hint: `As its owner or a superuser: GRANT EXECUTE ON ${kind === 'procedure' ? 'PROCEDURE' : 'FUNCTION'} ${name} TO ${user};` };
    }
    const usage: Record<string, string> = { type: 'TYPE', domain: 'DOMAIN', language: 'LANGUAGE', 'foreign server': 'FOREIGN SERVER', 'foreign-data wrapper': 'FOREIGN DATA WRAPPER' };
    if (usage[kind]) return { object, privilege: 'USAGE', hint: `As its owner or a superuser: GRANT USAGE ON ${usage[kind]} ${name} TO ${user};` };
    if (kind === 'tablespace') return { object, privilege: 'CREATE', hint: `As a superuser: GRANT CREATE ON TABLESPACE ${sqlName(name)} TO ${user};` };
    return { object, privilege: 'a privilege on it', hint: `Ask the owner of ${object} (or a superuser) to grant ${user} what this needs.` };
  }
  match = new RegExp(`must be owner of (${KIND_PATTERN}) ("(?:[^"]|"")+"|[^\\n]+)`).exec(message);
  if (match) {
    const kind = match[1] as string;
    const name = unquote(match[2] as string);
    const alter = ALTER_KIND[kind] ?? kind.toUpperCase();
    const shown = kind === 'database' || kind === 'schema' ? sqlName(name) : qualified(name, statement);
    return {
      object: `${kind} ${name}`,
      privilege: 'ownership',
      hint: `Only the owner of ${kind} ${name} (or a superuser) may do this: run dbfast as its owner, or as a superuser: ALTER ${alter} ${shown} OWNER TO ${user};`,
    };
  }
  if (/permission denied to (create|rename) database/.test(message)) {
    return { object: 'databases', privilege: 'CREATEDB', hint: `As a superuser: ALTER ROLE ${user} CREATEDB;` };
  }
  if (/permission denied to create role/.test(message)) return { object: 'roles', privilege: 'CREATEROLE', hint: `As a superuser: ALTER ROLE ${user} CREATEROLE;` };
  if (/permission denied to terminate process|must be a member of the role whose process is being terminated/.test(message)) {
    return { object: 'other sessions', privilege: 'pg_signal_backend', hint: `As a superuser: GRANT pg_signal_backend TO ${user}; (or stop those sessions yourself)` };
  }
  match = /(?:must be (?:a )?member of role|permission denied to set role|must be able to SET ROLE) "((?:[^"]|"")+)"/.exec(message);
  if (match) {
    const role = unquote(`"${match[1] as string}"`);
    return {
      object: `role ${role}`,
      privilege: `membership in ${role}`,
      hint: `${user} would have to act as "${role}". For a deploy, leave owners out (no_owner unset or true under the remote) so objects belong to ${user}; a superuser may GRANT ${quoteIdent(role)} TO ${user} only if "${role}" is an ordinary role, never a superuser.`,
    };
  }
  match = /permission denied to set parameter "((?:[^"]|"")+)"/.exec(message);
  if (match) {
    const parameter = match[1] as string;
    return { object: `parameter ${parameter}`, privilege: 'SET', hint: `As a superuser: GRANT SET ON PARAMETER ${quoteIdent(parameter)} TO ${user}; or remove the setting from the SQL.` };
  }
  match = /permission denied to create extension "((?:[^"]|"")+)"/.exec(message);
  if (match) {
    return { object: `extension ${match[1] as string}`, privilege: 'superuser', hint: `Only a superuser can create the untrusted extension "${match[1] as string}": create it as one, or leave it out of the SQL files.` };
  }
  if (/must be superuser/.test(message)) {
    return { object: 'this operation', privilege: 'superuser', hint: `This needs a superuser: have one do it, or leave the statement out (${message.trim()}).` };
  }
  return undefined;
}
