import type { DeliveryLogLine, WebhookEvent } from '../../index.js';
import { oneLine, table, when, type Style } from './format.js';

/** Human renderings of `webhook serve` (one line per delivery) and `webhook events`. */

/** The one line `webhook serve` prints per delivery (text mode). */
export function deliveryLine(line: DeliveryLogLine): string {
  const what = [line.provider, line.event ?? '', line.ref ?? '', line.commit ? line.commit.slice(0, 12) : '', line.sender ? `by ${line.sender}` : ''].filter(Boolean).join(' ');
  const where = line.remote ? ` -> ${line.remote}` : '';
  const status = line.status === null ? '' : ` ${line.status}`;
  const took = line.durationMs === null ? '' : `, ${(line.durationMs / 1000).toFixed(1)} s`;
  const deploy = line.deployId ? ` (deploy ${line.deployId}${took})` : '';
  // The whole error (its second line is often the cause: file:line, the server's own words), on the delivery's one line.
  const why = oneLine(line.error) || oneLine(line.detail);
  return `${line.at} ${line.requestId ?? '-'} ${what}${where}:${status} ${line.outcome}${deploy}${why ? `: ${why}` : ''}`;
}

function eventRow(event: WebhookEvent): string[] {
  return [
    when(event.receivedAt),
    event.requestId,
    event.provider,
    event.event ?? '',
    event.ref ?? '',
    event.commit ? event.commit.slice(0, 12) : '',
    event.sender ?? '',
    event.signatureOk ? 'ok' : 'BAD',
    event.route ? `${event.route}` : '',
    event.outcome,
    event.deployId ?? '',
    oneLine(event.error) || oneLine(event.detail),
  ];
}

export function renderWebhookEvents(style: Style, events: WebhookEvent[]): string {
  if (events.length === 0) return 'no webhook deliveries recorded';
  return table(style, ['RECEIVED', 'REQUEST', 'PROVIDER', 'EVENT', 'REF', 'COMMIT', 'SENDER', 'SIGNATURE', 'ROUTE', 'OUTCOME', 'DEPLOY', 'DETAIL'], events.map(eventRow), {
    cell: (text, column) => (column === 7 || column === 9 ? style.status(text) : text),
  });
}
