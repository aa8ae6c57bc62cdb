import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveWebhooks, type DeliveryLogLine, type WebhookServer } from '../../src/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { query } from '../support/db.js';
import { createRemoteAccount, type RemoteAccount } from '../support/backup.js';
import { snapshot } from '../support/deploy.js';
import { eventRows, gitProject, marker, markerSql, post, serverConfig, settled, signed, signedPush, type GitProject } from './support.js';

const SECRET = `s3cret-${randomBytes(8).toString('hex')}`;
const SECRET_ENV = `DBFAST_TEST_WEBHOOK_SECRET_${randomBytes(3).toString('hex').toUpperCase()}`;
const MARKER_FILE = 'db/0_schema/090_marker.sql';

interface HistoryRow {
  deploy_id: string;
  result: string;
  error: string | null;
  started_at: Date;
  finished_at: Date;
  trigger: { provider: string; deliveryId: string; commit: string; sender: string | null; ref: string | null } | null;
}

describe('dbfast webhook serve', () => {
  let account: RemoteAccount;
  let project: GitProject;
  let server: WebhookServer;
  let config: { dir: string; configPath: string; eventsDbUrl: string };
  const lines: DeliveryLogLine[] = [];
  const requestIds: string[] = [];
  let firstDelivery: ReturnType<typeof signedPush>;

  const history = (): Promise<HistoryRow[]> => query<HistoryRow>(account.adminDbUrl, 'SELECT deploy_id, result, error, started_at, finished_at, "trigger" FROM dbfast.deploy_history ORDER BY id');
  const deliver = async (delivery: Parameters<typeof post>[1], pathname?: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const answer = await post(server.url, delivery, pathname);
    if (typeof answer.body.requestId === 'string') requestIds.push(answer.body.requestId);
    return answer;
  };

  beforeAll(async () => {
    account = await createRemoteAccount({ createdb: true, prefix: 'wh' });
    project = gitProject([{ name: 'staging', account }]);
    config = await serverConfig(
      project,
      [
        `secret_env = "${SECRET_ENV}"`,
        'request_timeout_seconds = 2',
        'max_body_bytes = 65536',
        '[[webhooks.routes]]',
        'branch = "main"',
        'remote = "staging"',
        '[[webhooks.routes]]',
        'name = "releases"',
        'tag = "v*"',
        'remote = "staging"',
      ].join('\n'),
    );
    server = await serveWebhooks({
      configPath: config.configPath,
      listen: '127.0.0.1:0',
      env: { ...process.env, ...project.env, [SECRET_ENV]: SECRET },
      onDelivery: (line) => lines.push(line),
    });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('deploys exactly the pushed commit of a signed GitHub push to a mapped branch, never the working tree, and records the trigger', async () => {
    const c1 = project.commit({ [MARKER_FILE]: markerSql('c1') }, 'c1');
    project.push('main');
    // The branch moves on before the server fetches, and the working tree has an uncommitted change: neither is deployed.
    const c2 = project.commit({ [MARKER_FILE]: markerSql('c2') }, 'c2');
    project.push('main');
    execFileSync('sh', ['-c', `printf "%s" "$1" > "$2"`, 'sh', markerSql('dirty'), path.join(project.work, MARKER_FILE)]);

    firstDelivery = signedPush('github', 'refs/heads/main', c1, SECRET, 'alice');
    const answer = await deliver(firstDelivery);
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(answer.body).toMatchObject({ outcome: 'queued', deploys: [{ route: 'branch:main->staging', remote: 'staging', commit: c1 }] });
    const [row] = await settled(config.eventsDbUrl, answer.body.requestId as string);
    expect(row, JSON.stringify(row)).toMatchObject({ outcome: 'deployed', provider: 'github', delivery_id: firstDelivery.deliveryId, commit: c1, ref: 'refs/heads/main', signature_ok: true });
    expect(await marker(account)).toBe('c1');

    const deploys = await history();
    expect(deploys).toHaveLength(1);
    expect(deploys[0]).toMatchObject({ deploy_id: row?.deploy_id, result: 'success', trigger: { provider: 'github', deliveryId: firstDelivery.deliveryId, commit: c1, sender: 'alice', ref: 'refs/heads/main' } });
    // Backups outlive the worktree: in the serving config's [backup] dir.
    expect(readdirSync(path.join(config.dir, 'backups', 'staging')).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    expect(readdirSync(path.join(config.dir, '.dbfast', 'webhook', 'worktrees'))).toEqual([]);
    execFileSync('git', ['checkout', '--', MARKER_FILE], { cwd: project.work });
    expect(c2).not.toBe(c1);
  });

  it('answers a missing or wrong signature with 401 and changes nothing', async () => {
    const before = snapshot(account.adminDbUrl);
    const deploysBefore = (await history()).length;
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: project.work, encoding: 'utf8' }).trim();
    const good = signedPush('github', 'refs/heads/main', head, SECRET);
    const attempts = [
      signedPush('github', 'refs/heads/main', head, 'not-the-secret'),
      { ...good, headers: { ...good.headers, 'X-Hub-Signature-256': '' } },
      // A valid signature of another body.
      { ...good, body: good.body.replace('alice', 'mallory') },
      signedPush('gitlab', 'refs/heads/main', head, 'not-the-secret'),
      signedPush('gitea', 'refs/heads/main', head, 'not-the-secret'),
      signedPush('bitbucket', 'refs/heads/main', head, 'not-the-secret'),
    ];
    for (const attempt of attempts) {
      const answer = await deliver(attempt);
      expect(answer.status, JSON.stringify(answer.body)).toBe(401);
      const rows = await eventRows(config.eventsDbUrl, answer.body.requestId as string);
      expect(rows).toEqual([expect.objectContaining({ signature_ok: false, outcome: 'rejected', commit: null })]);
    }
    expect(snapshot(account.adminDbUrl)).toBe(before);
    expect(await history()).toHaveLength(deploysBefore);
    const ok = await query(config.eventsDbUrl, 'SELECT 1 FROM dbfast.webhook_events WHERE delivery_id = ANY($1) AND signature_ok', [attempts.map((a) => a.headers['X-GitHub-Delivery'] ?? a.headers['Idempotency-Key'] ?? a.headers['X-Gitea-Delivery'] ?? a.headers['X-Request-UUID'])]);
    expect(ok).toEqual([]);
  });

  it('answers pings, and acknowledges and ignores other events, unmapped branches and deleted branches', async () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: project.work, encoding: 'utf8' }).trim();
    const cases: Array<[Parameters<typeof post>[1], string, string?]> = [
      [signed('github', 'ping', { zen: 'Keep it logically awesome.', hook_id: 1 }, SECRET), 'ping'],
      [signed('bitbucket', 'diagnostics:ping', { test: true }, SECRET), 'ping', '/webhook/bitbucket'],
      [signed('github', 'issues', { action: 'opened', repository: { full_name: 'acme/shop' }, sender: { login: 'bob' } }, SECRET), 'ignored'],
      [signedPush('gitea', 'refs/heads/feature/x', head, SECRET), 'ignored'],
      [signedPush('gitlab', 'refs/heads/feature/y', head, SECRET), 'ignored'],
      [signed('github', 'push', { ref: 'refs/heads/main', after: '0'.repeat(40), deleted: true, repository: { full_name: 'acme/shop' }, sender: { login: 'bob' } }, SECRET), 'ignored'],
    ];
    for (const [delivery, outcome, pathname] of cases) {
      const answer = await deliver(delivery, pathname);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.outcome).toBe(outcome);
      const rows = await eventRows(config.eventsDbUrl, answer.body.requestId as string);
      expect(rows).toEqual([expect.objectContaining({ signature_ok: true, outcome })]);
    }
    const feature = (await eventRows(config.eventsDbUrl)).find((row) => row.ref === 'refs/heads/feature/x');
    expect(feature?.detail).toBe('no route for branch "feature/x"');
    expect(await marker(account)).toBe('c1');
  });

  it("deploys GitLab, Gitea and Bitbucket pushes (a tag route too); a redelivery deploys nothing", async () => {
    const c3 = project.commit({ [MARKER_FILE]: markerSql('c3') }, 'c3');
    project.pushTag('v1.0');
    const tag = await deliver(signedPush('gitlab', 'refs/tags/v1.0', c3, SECRET, 'carol'));
    expect(tag.status, JSON.stringify(tag.body)).toBe(202);
    expect(await settled(config.eventsDbUrl, tag.body.requestId as string)).toEqual([expect.objectContaining({ outcome: 'deployed', route: 'releases', provider: 'gitlab' })]);
    expect(await marker(account)).toBe('c3');

    const c4 = project.commit({ [MARKER_FILE]: markerSql('c4') }, 'c4');
    project.push('main');
    const gitea = await deliver(signedPush('gitea', 'refs/heads/main', c4, SECRET, 'dave'));
    expect(await settled(config.eventsDbUrl, gitea.body.requestId as string)).toEqual([expect.objectContaining({ outcome: 'deployed', provider: 'gitea' })]);
    expect(await marker(account)).toBe('c4');

    const c5 = project.commit({ [MARKER_FILE]: markerSql('c5') }, 'c5');
    project.push('main');
    const bitbucketDelivery = signedPush('bitbucket', 'refs/heads/main', c5, SECRET, 'erin');
    const bitbucket = await deliver(bitbucketDelivery);
    expect(await settled(config.eventsDbUrl, bitbucket.body.requestId as string)).toEqual([expect.objectContaining({ outcome: 'deployed', provider: 'bitbucket' })]);
    expect(await marker(account)).toBe('c5');
    const deploys = (await history()).length;

    // The same deliveries again (a provider's retry, or "Redeliver"): recorded, not deployed.
    for (const again of [bitbucketDelivery, firstDelivery]) {
      const answer = await deliver(again);
      expect(answer.status).toBe(200);
      expect(answer.body.outcome).toBe('duplicate');
      expect(await eventRows(config.eventsDbUrl, answer.body.requestId as string)).toEqual([expect.objectContaining({ outcome: 'duplicate', signature_ok: true })]);
    }
    expect(await history()).toHaveLength(deploys);
    expect(await marker(account)).toBe('c5');
    expect((await history()).map((d) => d.trigger?.provider).slice(-3)).toEqual(['gitlab', 'gitea', 'bitbucket']);
  });

  it('ends two quick pushes to one branch at the newest commit, never deploying concurrently', async () => {
    const c6 = project.commit({ [MARKER_FILE]: markerSql('c6') }, 'c6');
    project.push('main');
    const c7 = project.commit({ [MARKER_FILE]: markerSql('c7') }, 'c7');
    project.push('main');
    const before = new Set((await history()).map((d) => d.deploy_id));
    // As a provider sends them: in push order, the second while the first is still queued or running.
    const answers = [await deliver(signedPush('github', 'refs/heads/main', c6, SECRET)), await deliver(signedPush('github', 'refs/heads/main', c7, SECRET))];
    expect(answers.map((a) => a.status)).toEqual([202, 202]);
    const rows = await Promise.all(answers.map((answer) => settled(config.eventsDbUrl, answer.body.requestId as string)));
    const byCommit = new Map(rows.flat().map((row) => [row.commit, row]));
    expect(byCommit.get(c7)?.outcome).toBe('deployed');
    expect(['deployed', 'superseded']).toContain(byCommit.get(c6)?.outcome);
    if (byCommit.get(c6)?.outcome === 'superseded') expect(byCommit.get(c6)?.detail).toContain(c7);
    expect(await marker(account)).toBe('c7');
    const runs = (await history()).filter((d) => !before.has(d.deploy_id)).sort((a, b) => a.started_at.getTime() - b.started_at.getTime());
    expect(runs.map((d) => d.trigger?.commit).at(-1)).toBe(c7);
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.started_at.getTime()).toBeGreaterThanOrEqual(runs[i - 1]!.finished_at.getTime());
  });

  it('records a failing deploy with its cause, and a commit that cannot be fetched; the remote stays as it was', async () => {
    const before = snapshot(account.adminDbUrl);
    const broken = project.commit({ 'db/0_schema/095_broken.sql': 'CREATE TABLE app.broken (;\n' }, 'broken');
    project.push('main');
    const answer = await deliver(signedPush('github', 'refs/heads/main', broken, SECRET));
    const [row] = await settled(config.eventsDbUrl, answer.body.requestId as string);
    expect(row?.outcome).toBe('failed');
    expect(row?.error).toContain('0_schema/095_broken.sql:1');
    const failed = (await history()).find((d) => d.deploy_id === row?.deploy_id);
    expect(failed).toMatchObject({ result: 'failed', trigger: { commit: broken } });

    const missing = 'deadbeef'.repeat(5);
    const lost = await deliver(signedPush('github', 'refs/heads/main', missing, SECRET));
    const [lostRow] = await settled(config.eventsDbUrl, lost.body.requestId as string);
    expect(lostRow?.outcome).toBe('failed');
    expect(lostRow?.error).toContain(`commit ${missing} is not in ${project.bare}`);
    expect(snapshot(account.adminDbUrl)).toBe(before);
    expect(await marker(account)).toBe('c7');
  });

  it('answers /health, /providers and /metrics; refuses bodies over the limit (413) and times out slow requests (408)', async () => {
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    const state = (await health.json()) as { ok: boolean; queueDepth: number; routes: Array<{ name: string; last: { outcome: string } | null }> };
    expect(state).toMatchObject({ ok: true, queueDepth: 0 });
    expect(state.routes.map((r) => [r.name, r.last?.outcome])).toEqual([['branch:main->staging', 'failed'], ['releases', 'deployed']]);

    const providers = await (await fetch(`${server.url}/providers`)).text();
    expect(JSON.parse(providers).providers.map((p: { name: string; signatureHeader: string }) => `${p.name}:${p.signatureHeader}`)).toEqual(['gitea:X-Gitea-Signature', 'gitlab:X-Gitlab-Token', 'github:X-Hub-Signature-256', 'bitbucket:X-Hub-Signature']);
    expect(providers).not.toContain(SECRET);

    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect(text).toMatch(/^dbfast_webhook_deliveries_total\{provider="github",outcome="queued"\} \d+$/m);
    expect(text).toMatch(/^dbfast_webhook_deliveries_total\{provider="github",outcome="rejected"\} 3$/m);
    expect(text).toMatch(/^dbfast_webhook_deploys_total\{remote="staging",outcome="failed"\} 2$/m);
    expect(text).toMatch(/^dbfast_webhook_deploy_duration_seconds_count\{remote="staging",outcome="deployed"\} \d+$/m);
    expect(text).toMatch(/^dbfast_webhook_queue_depth 0$/m);

    const tooLarge = await post(server.url, signed('github', 'push', { padding: 'x'.repeat(70_000) }, SECRET));
    expect(tooLarge.status).toBe(413);

    // Headers and part of the body, then nothing: the request timeout (2 s here) answers 408.
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, '127.0.0.1', () => socket.write('POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ref":'));
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
  });

  it('lists every delivery with `webhook events`, logs one line per delivery without secrets, and `history` shows the trigger', async () => {
    const env = { ...project.env, [SECRET_ENV]: SECRET };
    const listed = await runCli(['--config', config.configPath, '--json', 'webhook', 'events', '--limit', '500'], { env });
    expect(listed.exitCode, listed.stderr).toBe(0);
    const events = parseJson<{ events: Array<{ requestId: string; outcome: string }> }>(listed).events;
    // Besides the answered deliveries: the 413 and the 408 of the test above, recorded too.
    const unread = events.filter((e) => e.outcome === 'too_large' || e.outcome === 'timed_out');
    expect(unread.map((e) => e.outcome).sort()).toEqual(['timed_out', 'too_large']);
    expect(new Set(events.filter((e) => !unread.includes(e)).map((e) => e.requestId))).toEqual(new Set(requestIds));
    const text = await runCli(['--config', config.configPath, 'webhook', 'events'], { env });
    expect(text.stdout.split('\n')[0]).toMatch(/^RECEIVED\s+REQUEST\s+PROVIDER\s+EVENT\s+REF\s+COMMIT\s+SENDER\s+SIGNATURE\s+ROUTE\s+OUTCOME\s+DEPLOY\s+DETAIL/);
    expect(text.stdout).toContain('0_schema/095_broken.sql:1');

    for (const id of requestIds) expect(lines.filter((line) => line.requestId === id).length, id).toBeGreaterThanOrEqual(1);
    expect(lines.filter((line) => line.outcome === 'deployed')).toHaveLength(new Set(lines.filter((l) => l.outcome === 'deployed').map((l) => l.deployId)).size);
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(account.password);

    const shown = await runCli(['--config', config.configPath, 'history', '--remote', 'staging'], { env });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`github ${firstDelivery.body.match(/"after":"([0-9a-f]{12})/)?.[1]} by alice (delivery ${firstDelivery.deliveryId})`);
  });
});
