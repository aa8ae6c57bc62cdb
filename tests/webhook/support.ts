import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { freshDatabase, local, query } from '../support/db.js';
import type { RemoteAccount } from '../support/backup.js';
import { writeDeployProject, type DeployHooksOptions, type DeployRemote } from '../support/deploy.js';

const folders: string[] = [];

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com' },
  }).trim();
}

/**
 * A project in git: a bare repository (what the provider hosts, what the server fetches) and a
 * developer's working clone of it, holding dbfast.toml and the SQL of tests/deploy/support.ts.
 */
export interface GitProject {
  /** The developer's working tree. */
  work: string;
  /** The bare repository pushes go to. */
  bare: string;
  env: Record<string, string>;
  /** Writes (or with null deletes) files, commits them and returns the commit id (not pushed). */
  commit: (files: Record<string, string | null>, message: string) => string;
  /** Pushes HEAD to a branch of the bare repository. */
  push: (branch: string) => void;
  /** Makes a tag at HEAD and pushes it. */
  pushTag: (tag: string) => void;
}

export function gitProject(remotes: DeployRemote[], options: { deploy?: DeployHooksOptions } = {}): GitProject {
  const project = writeDeployProject(remotes, { deploy: options.deploy });
  const bare = mkdtempSync(path.join(os.tmpdir(), 'dbfast-webhook-origin-'));
  folders.push(bare);
  git(bare, ['init', '--bare', '--quiet', '--initial-branch', 'main']);
  git(project.dir, ['init', '--quiet', '--initial-branch', 'main']);
  writeFileSync(path.join(project.dir, '.gitignore'), 'backups/\n.dbfast/\n');
  git(project.dir, ['add', '-A']);
  git(project.dir, ['commit', '--quiet', '-m', 'the project']);
  git(project.dir, ['remote', 'add', 'origin', bare]);
  git(project.dir, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
  return {
    work: project.dir,
    bare,
    env: project.env,
    commit: (files, message) => {
      for (const [name, text] of Object.entries(files)) {
        const file = path.join(project.dir, name);
        if (text === null) unlinkSync(file);
        else {
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, text);
        }
      }
      git(project.dir, ['add', '-A']);
      git(project.dir, ['commit', '--quiet', '-m', message]);
      return git(project.dir, ['rev-parse', 'HEAD']);
    },
    push: (branch) => git(project.dir, ['push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`]),
    pushTag: (tag) => {
      git(project.dir, ['tag', tag]);
      git(project.dir, ['push', '--quiet', 'origin', `refs/tags/${tag}`]);
    },
  };
}

/** SQL that leaves one row saying which commit's files were deployed. */
export function markerSql(value: string): string {
  return `CREATE TABLE app.webhook_marker (v text);\nINSERT INTO app.webhook_marker VALUES ('${value}');\n`;
}

export async function marker(account: RemoteAccount): Promise<string | null> {
  const [table] = await query<{ r: string | null }>(account.adminDbUrl, "SELECT to_regclass('app.webhook_marker')::text AS r");
  if (!table?.r) return null;
  return (await query<{ v: string }>(account.adminDbUrl, 'SELECT v FROM app.webhook_marker ORDER BY v')).map((row) => row.v).join(',');
}

/**
 * The serving dbfast.toml: the project's own (remotes, environments) plus `[webhooks]`, in a
 * folder of its own, recording deliveries in a fresh database on the local server.
 */
export async function serverConfig(project: GitProject, webhooks: string): Promise<{ dir: string; configPath: string; eventsDbUrl: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-webhook-server-'));
  folders.push(dir);
  const events = await freshDatabase(local, 'wh');
  const text = readFileSync(path.join(project.work, 'dbfast.toml'), 'utf8').replace(/^url = .*$/m, `url = ${JSON.stringify(events.url)}`);
  const configPath = path.join(dir, 'dbfast.toml');
  writeFileSync(configPath, `${text}\n[webhooks]\nrepository = ${JSON.stringify(project.bare)}\n${webhooks}\n`);
  return { dir, configPath, eventsDbUrl: events.url };
}

export function tempFolder(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  folders.push(dir);
  return dir;
}

// ---- deliveries, signed the way each provider documents it ----

export type Provider = 'github' | 'gitlab' | 'gitea' | 'bitbucket';

export interface Delivery {
  headers: Record<string, string>;
  body: string;
  deliveryId: string;
}

function hmac(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** A delivery of `event` with `payload`, signed with `secret` as the provider does. */
export function signed(provider: Provider, event: string, payload: unknown, secret: string, deliveryId: string = randomUUID()): Delivery {
  const body = JSON.stringify(payload);
  const json = { 'content-type': 'application/json' };
  switch (provider) {
    case 'github':
      return { body, deliveryId, headers: { ...json, 'X-GitHub-Event': event, 'X-GitHub-Delivery': deliveryId, 'X-Hub-Signature-256': `sha256=${hmac(secret, body)}`, 'User-Agent': 'GitHub-Hookshot/abc' } };
    case 'gitea':
      // Gitea also sends GitHub's and Gogs' headers; the signature of its own is plain hex.
      return { body, deliveryId, headers: { ...json, 'X-Gitea-Event': event, 'X-Gitea-Delivery': deliveryId, 'X-GitHub-Event': event, 'X-GitHub-Delivery': deliveryId, 'X-Gitea-Signature': hmac(secret, body), 'X-Hub-Signature-256': `sha256=${hmac(secret, body)}` } };
    case 'gitlab':
      return { body, deliveryId, headers: { ...json, 'X-Gitlab-Event': event, 'X-Gitlab-Token': secret, 'X-Gitlab-Event-UUID': deliveryId, 'Idempotency-Key': deliveryId, 'X-Gitlab-Webhook-UUID': randomUUID() } };
    case 'bitbucket':
      return { body, deliveryId, headers: { ...json, 'X-Event-Key': event, 'X-Request-UUID': deliveryId, 'X-Hook-UUID': '{hook}', 'X-Attempt-Number': '1', 'X-Hub-Signature': `sha256=${hmac(secret, body)}` } };
  }
}

const ZERO = '0'.repeat(40);

/** The provider's push event name and payload for `ref` now at `commit`. */
export function pushPayload(provider: Provider, ref: string, commit: string, sender: string): { event: string; payload: unknown } {
  const name = ref.replace(/^refs\/(heads|tags)\//, '');
  const tag = ref.startsWith('refs/tags/');
  switch (provider) {
    case 'github':
    case 'gitea':
      return {
        event: 'push',
        payload: { ref, before: ZERO, after: commit, created: true, deleted: false, repository: { full_name: 'acme/shop' }, pusher: { name: sender }, sender: { login: sender }, commits: [{ id: commit, message: 'change' }] },
      };
    case 'gitlab':
      return {
        event: tag ? 'Tag Push Hook' : 'Push Hook',
        payload: { object_kind: tag ? 'tag_push' : 'push', ref, before: ZERO, after: commit, checkout_sha: commit, user_username: sender, user_name: 'A Person', project: { path_with_namespace: 'acme/shop' }, commits: [] },
      };
    case 'bitbucket':
      return {
        event: 'repo:push',
        payload: { actor: { nickname: sender, display_name: 'A Person' }, repository: { full_name: 'acme/shop' }, push: { changes: [{ new: { type: tag ? 'tag' : 'branch', name, target: { type: 'commit', hash: commit } }, old: null, created: true }] } },
      };
  }
}

export function signedPush(provider: Provider, ref: string, commit: string, secret: string, sender = 'alice', deliveryId?: string): Delivery {
  const { event, payload } = pushPayload(provider, ref, commit, sender);
  return signed(provider, event, payload, secret, deliveryId);
}

export async function post(url: string, delivery: Pick<Delivery, 'headers' | 'body'>, pathname = '/webhook'): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}${pathname}`, { method: 'POST', headers: delivery.headers, body: delivery.body });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export interface EventRow {
  request_id: string;
  delivery_id: string | null;
  provider: string;
  outcome: string;
  signature_ok: boolean;
  commit: string | null;
  ref: string | null;
  route: string | null;
  remote: string | null;
  deploy_id: string | null;
  error: string | null;
  detail: string | null;
}

export async function eventRows(eventsDbUrl: string, requestId?: string): Promise<EventRow[]> {
  return query<EventRow>(eventsDbUrl, `SELECT * FROM dbfast.webhook_events WHERE $1::text IS NULL OR request_id = $1 ORDER BY id`, [requestId ?? null]);
}

const FINAL = new Set(['deployed', 'failed', 'superseded', 'cancelled', 'rejected', 'ignored', 'ping', 'duplicate', 'invalid']);

/** Polls the records until every row of the request has a final outcome. */
export async function settled(eventsDbUrl: string, requestId: string, timeoutMs = 120_000): Promise<EventRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await eventRows(eventsDbUrl, requestId);
    if (rows.length > 0 && rows.every((row) => FINAL.has(row.outcome))) return rows;
    if (Date.now() > deadline) throw new Error(`request ${requestId} did not settle: ${JSON.stringify(rows)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

afterAll(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});
