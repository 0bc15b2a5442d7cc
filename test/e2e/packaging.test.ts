/**
 * simple-peer is imported only through `#simple-peer` (package.json `imports`): the
 * browser condition maps it to simple-peer's polyfilled bundle (checked in a real page
 * by chat.test.ts), and everything else must get simple-peer's normal Node entry, the one
 * that takes an injected `wrtc`.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import SimplePeerViaImports from '#simple-peer';

const root = resolve(import.meta.dirname, '../..');

describe('#simple-peer', () => {
  it('is simple-peer\'s normal entry outside browsers', () => {
    const require = createRequire(import.meta.url);
    expect(SimplePeerViaImports).toBe(require('simple-peer'));
  });

  it('maps the browser condition to the prebuilt bundle, and nothing in src imports simple-peer directly', () => {
    const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { imports: Record<string, Record<string, string>> };
    const browserFile = pkg.imports['#simple-peer']?.browser;
    expect(browserFile).toBeDefined();
    expect(readFileSync(resolve(root, browserFile!), 'utf8')).toMatch(/from 'simple-peer\/simplepeer\.min\.js'/);
    const transport = readFileSync(resolve(root, 'src/transport/simple-peer.ts'), 'utf8');
    expect(transport).toMatch(/from '#simple-peer'/);
    expect(transport).not.toMatch(/import SimplePeer from 'simple-peer'/);
  });
});
