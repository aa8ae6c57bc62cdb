import { describe, expect, it } from 'vitest';
import { chainManifest, isReadyLayer } from '../../src/local/chain.js';
import { planLayers } from '../../src/local/layers.js';
import { encodeComment, TEMPLATE_MARKER } from '../../src/local/manifest.js';
import type { EnvironmentPlan } from '../../src/local/plan.js';

const file = (relativePath: string, sha = relativePath.length.toString(16).padStart(64, '0')): { relativePath: string; absolutePath: string; sha256: string } => ({ relativePath, absolutePath: `/x/${relativePath}`, sha256: sha });
const files = ['0_schema/a.sql', '0_schema/b.sql', '1_seed/a.sql', '2_test/a.sql', 'z.sql'].map((path) => file(path));

describe('planLayers', () => {
  it('makes one layer per top-level folder by default, files at the top level their own', () => {
    const layers = planLayers({ name: 'local' }, files, 'shop', 'shop_local');
    expect(layers.map((layer) => [layer.label, layer.files.length])).toEqual([
      ['0_schema', 2],
      ['1_seed', 1],
      ['2_test', 1],
      ['(top level)', 1],
    ]);
    expect(layers[3]?.template).toBe('shop_local');
    expect(layers[0]?.template).toMatch(/^shop__[0-9a-f]{12}$/);
  });

  it('gives the same first layers the same identity whatever comes after them, and a change below a new one above', () => {
    const a = planLayers({ name: 'a' }, files, 'shop', 'shop_a');
    const b = planLayers({ name: 'b' }, files.slice(0, 3), 'shop', 'shop_b');
    expect(b[0]?.identity).toBe(a[0]?.identity);
    expect(b[1]?.identity).toBe(a[1]?.identity);
    const changed = planLayers({ name: 'a' }, [file('0_schema/a.sql', 'f'.repeat(64)), ...files.slice(1)], 'shop', 'shop_a');
    expect(changed.map((layer, index) => layer.identity === a[index]?.identity)).toEqual([false, false, false, false]);
    // Another project's template_name never shares an identity.
    expect(planLayers({ name: 'a' }, files, 'other', 'other_a')[0]?.identity).not.toBe(a[0]?.identity);
  });

  it('keeps long template names within PostgreSQL limits', () => {
    const long = 'x'.repeat(38);
    for (const layer of planLayers({ name: 'e' }, files, long, `${long}_e`).slice(0, -1)) expect(Buffer.byteLength(layer.template)).toBeLessThanOrEqual(40);
  });

  it('"none" is one layer, an environment without files one empty layer', () => {
    expect(planLayers({ name: 'l', layers: 'none' }, files, 's', 's_l').map((layer) => [layer.label, layer.files.length])).toEqual([['all', 5]]);
    expect(planLayers({ name: 'l' }, [], 's', 's_l').map((layer) => [layer.label, layer.files.length])).toEqual([['all', 0]]);
  });

  it('configured layers: folders grouped, parallel counted, out of order and overlapping refused', () => {
    const layers = planLayers({ name: 'l', layers: [['0_schema'], { folders: ['1_seed', '2_test', 'z.sql'], parallel: 3 }] }, files.slice(0, 4), 's', 's_l');
    expect(layers.map((layer) => [layer.label, layer.files.length, layer.parallel])).toEqual([
      ['0_schema', 2, 1],
      ['1_seed+2_test+z.sql', 2, 3],
    ]);
    expect(() => planLayers({ name: 'l', layers: [['0_schema', '1_seed'], ['1_seed']] }, files.slice(0, 3), 's', 's_l')).toThrow(/in layers 1 and 2/);
    expect(() => planLayers({ name: 'l', layers: [['1_seed'], ['0_schema']] }, files.slice(0, 3), 's', 's_l')).toThrow(/layers must follow the order/);
  });
});

describe('isReadyLayer', () => {
  it('decides from the head of a manifest, as status and build read it', () => {
    const layers = planLayers({ name: 'local' }, files, 'shop', 'shop_local');
    const plan = { environment: 'local', template: 'shop_local', files, filterHash: 'f', layers } as EnvironmentPlan;
    const owner = { id: 'id-1', path: '/p "quoted" \\ dir' };
    const comment = encodeComment(TEMPLATE_MARKER, chainManifest(plan, 1, { serverVersion: 150000, sizeBytes: 1, extensions: {}, owner }));
    const head = comment.slice(0, 300);
    expect(isReadyLayer(head, layers[1]?.identity as string, owner)).toBe(true);
    expect(isReadyLayer(head, layers[0]?.identity as string, owner)).toBe(false);
    expect(isReadyLayer(head, layers[1]?.identity as string, { id: 'other', path: '/elsewhere' })).toBe(false);
    expect(isReadyLayer(head, layers[1]?.identity as string, { id: 'other', path: owner.path })).toBe(true);
  });
});
