/**
 * What a demo page reported as broken: uncaught errors and `console.error` lines, kept
 * for assertions (a page must have none) and for the text of a failed wait.
 */
import type { Page } from 'playwright-core';

export interface PageErrors {
  pageErrors: string[];
  consoleErrors: string[];
  /** Both lists as text, for a failure message. */
  describe(): string;
}

/**
 * Start recording `page`'s uncaught errors and console errors (call before `goto`).
 *
 * @example
 * ```ts
 * const errors = watchPageErrors(page);
 * await page.goto(url);
 * expect(errors.pageErrors).toEqual([]);
 * ```
 */
export function watchPageErrors(page: Page): PageErrors {
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e.stack ?? e)));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  return { pageErrors, consoleErrors, describe: () => `page errors: ${pageErrors.join('\n') || 'none'}\nconsole errors: ${consoleErrors.join('\n') || 'none'}` };
}
