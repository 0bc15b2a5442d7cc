import type { Page } from 'playwright-core';

/**
 * What Chromium does in a page when the site may keep no data ("block all cookies / site
 * data"): reading `localStorage` throws a SecurityError, and opening IndexedDB fails with
 * an error event. Set up before the page's own scripts run.
 *
 * @example
 * ```ts
 * const page = await context.newPage();
 * await blockSiteData(page);
 * await page.goto(url);
 * ```
 */
export const blockSiteData = async (page: Page): Promise<void> => {
  await page.addInitScript(() => {
    Object.defineProperty(window, 'localStorage', {
      get() {
        throw new DOMException("Failed to read the 'localStorage' property from 'Window': Access is denied for this document.", 'SecurityError');
      },
    });
    const open = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function (this: IDBFactory, ...args: Parameters<IDBFactory['open']>) {
      const request = open.apply(this, args);
      const denied = new DOMException('The user denied permission to access the database.', 'UnknownError');
      // Its success turned into the error Chromium fires instead (before the page's own handlers see it).
      request.addEventListener(
        'success',
        (e) => {
          e.stopImmediatePropagation();
          (e.target as IDBOpenDBRequest).result.close();
          Object.defineProperty(request, 'error', { value: denied });
          request.dispatchEvent(new Event('error'));
        },
        { capture: true },
      );
      return request;
    };
  });
};
