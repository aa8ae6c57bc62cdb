import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveWebhooks } from '../../src/index.js';
import { deliveryLine } from '../../src/cli/render/webhook.js';
import type { DeliveryLogLine } from '../../src/webhook/service.js';
import { freshDatabase, local } from '../support/db.js';
import { eventRows, gitProject, post, signed, tempFolder } from './support.js';

const SECRET = 'unread-secret';

describe('deliveries answered before their body was read', () => {
  it('records a 413 (too large) and a 408 (too slow) in the history and the log, like any other delivery', async () => {
    const project = gitProject([]);
    const dir = tempFolder('dbfast-webhook-unread-');
    const events = await freshDatabase(local, 'whu');
    const configPath = path.join(dir, 'dbfast.toml');
    writeFileSync(configPath, [
      '[database]', `url = ${JSON.stringify(events.url)}`, '[environments.staging]',
      '[remotes.staging]', 'url = "postgresql://app@127.0.0.1:1/shop"', 'environment = "staging"',
      '[webhooks]', `repository = ${JSON.stringify(project.bare)}`, 'secret_env = "DBFAST_TEST_UNREAD_SECRET"',
      'max_body_bytes = 2048', 'request_timeout_seconds = 1',
      '[[webhooks.routes]]', 'branch = "main"', 'remote = "staging"', '',
    ].join('\n'));
    const lines: DeliveryLogLine[] = [];
    const server = await serveWebhooks({
      configPath,
      listen: '127.0.0.1:0',
      env: { ...process.env, DBFAST_TEST_UNREAD_SECRET: SECRET },
      onDelivery: (line) => lines.push(line),
      runner: async (request) => ({ deployId: request.deployId, mode: 'swap', backupId: null, durationMs: 1 }),
    });
    try {
      const tooLarge = await post(server.url, signed('github', 'push', { padding: 'x'.repeat(5_000) }, SECRET, 'big-1'));
      expect(tooLarge.status).toBe(413);
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(server.port, '127.0.0.1', () =>
          socket.write('POST /webhook/gitlab HTTP/1.1\r\nHost: x\r\nX-Gitlab-Event: Push Hook\r\nIdempotency-Key: slow-1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ref":'));
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
      });
      expect(reply).toMatch(/^HTTP\/1\.1 408/);
      const deadline = Date.now() + 30_000;
      while ((await eventRows(events.url)).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      const rows = await eventRows(events.url);
      expect(rows.map((row) => [row.provider, row.delivery_id, row.outcome, row.signature_ok])).toEqual([
        ['github', 'big-1', 'too_large', false],
        ['gitlab', 'slow-1', 'timed_out', false],
      ]);
      expect(rows[0]?.detail).toContain('max_body_bytes');
      expect(rows[1]?.detail).toContain('request_timeout_seconds');
      expect(lines.map((line) => [line.outcome, line.status, line.requestId])).toEqual([
        ['too_large', 413, rows[0]?.request_id],
        ['timed_out', 408, rows[1]?.request_id],
      ]);
    } finally {
      await server.stop();
    }
  });

  it('keeps a multi-line error whole on the delivery\'s one log line', () => {
    const line: DeliveryLogLine = {
      at: '2026-01-01T00:00:00.000Z', requestId: 'r1', provider: 'github', event: 'push', deliveryId: 'd1', ref: 'refs/heads/main', commit: 'a'.repeat(40),
      sender: 'alice', route: 'main', remote: 'staging', outcome: 'failed', status: null, deployId: 'dep1', durationMs: 1500, detail: null,
      error: 'building the template failed:\n  db/0_schema/095_broken.sql:1:22: syntax error at or near ";"\n',
    };
    const text = deliveryLine(line);
    expect(text.split('\n')).toHaveLength(1);
    expect(text).toContain('building the template failed: | db/0_schema/095_broken.sql:1:22: syntax error at or near ";"');
  });
});
