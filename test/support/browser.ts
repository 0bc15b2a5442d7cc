import { chromium, type Browser } from 'playwright-core';
import { ensureDebianPackage } from './system-package.js';

/** Flags checked on this kind of machine (see ../shared/DESIGN.md). */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

/**
 * Launch Debian's Chromium headless through playwright-core (never a downloaded
 * browser). Installs the `chromium` package first when missing and running as root.
 */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const executablePath = ensureDebianPackage('/usr/bin/chromium', 'chromium');
  return chromium.launch({
    executablePath,
    headless: true,
    // No --user-data-dir: playwright-core refuses it in launch() and already gives every
    // launch a fresh temporary profile of its own.
    args: [...CHROMIUM_FLAGS, ...extraArgs],
  });
}
