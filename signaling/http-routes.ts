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
    if (req.method === 'GET' && path === '/health') return json(200, health());
    if (req.method === 'GET' && path === '/metrics') return json(200, metrics());
    json(404, { error: 'not-found' });
  };
}
