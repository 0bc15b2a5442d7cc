/**
 * The relay's plain-HTTP side, on the WebSocket port: `GET /health`, `GET /metrics`,
 * 404 for everything else.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RelayMetrics } from './metrics.js';

/** A request handler serving health and metrics (internal to `signaling/`). */
export function createHttpHandler(metrics: () => RelayMetrics, health: () => object): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown): void => {
      // Any page may ask whether the relay is up (the demos' landing page does).
      const cors = path === '/health' ? { 'access-control-allow-origin': '*' } : {};
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...cors });
      res.end(JSON.stringify(body));
    };
    // HEAD as GET (Node leaves the body out): uptime monitors often probe with HEAD, and a
    // 404 there reads as the relay being down.
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (get && path === '/health') return json(200, health());
    if (get && path === '/metrics') return json(200, metrics());
    json(404, { error: 'not-found' });
  };
}
