import type http from "node:http";
import type http2 from "node:http2";
import { Registry } from "prom-client";
import type { DatabaseGauges } from "./database-gauges.js";
import { processRegistry } from "./process-metrics.js";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/**
 * `GET /metrics` in Prometheus's text format, on the API's own port and
 * both HTTP versions: this process's counters and the database's gauges,
 * read at each scrape.
 */
export class MetricsRoute {
  static readonly PATH = "/metrics";

  constructor(private readonly gauges: DatabaseGauges) {}

  accepts(req: Request): boolean {
    const url = req.url ?? "";
    return url === MetricsRoute.PATH || url.startsWith(`${MetricsRoute.PATH}?`);
  }

  /** Answers the scrape; never rejects. */
  async serve(req: Request, res: Response): Promise<void> {
    const reply = res as http.ServerResponse;
    if (req.method !== "GET" && req.method !== "HEAD") {
      reply.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    try {
      const gauges = await this.gauges.refresh();
      const registry = Registry.merge([processRegistry, ...gauges]);
      const body = await registry.metrics();
      reply.writeHead(200, { "content-type": registry.contentType });
      reply.end(req.method === "HEAD" ? undefined : body);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      reply.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      reply.end(`metrics: ${message}\n`);
    }
  }
}
