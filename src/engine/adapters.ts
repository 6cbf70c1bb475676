import { Injectable } from '@nestjs/common';
import * as fs from 'node:fs';
import { templateNamesIn } from '../journeys/journey-files';

/**
 * Side effects and outside knowledge the engine needs, behind injectable adapters so tests
 * (and the lead, when templates/delivery land) can swap them.
 */

/** Which templates exist now (a send to a template removed after an edit fails and is retried). */
export abstract class TemplateCatalog {
  abstract has(name: string): boolean;
}

/** Reads TEMPLATES_DIR (`<name>/<locale>.mjml`), re-scanned at most every few seconds. */
export class DirectoryTemplateCatalog extends TemplateCatalog {
  private names = new Set<string>();
  private readAt = 0;

  constructor(
    private readonly dir: string,
    private readonly ttlMs = 5000,
    private readonly wallClock: () => number = () => Date.now(), // cache freshness only, not domain time
  ) {
    super();
  }

  has(name: string): boolean {
    const t = this.wallClock();
    if (t - this.readAt > this.ttlMs) {
      this.names = fs.existsSync(this.dir) ? templateNamesIn(this.dir) : new Set();
      this.readAt = t;
    }
    return this.names.has(name);
  }
}

export interface HttpResponse {
  status: number;
  body: string;
}

/** Outbound HTTP for hand-off webhooks. */
export abstract class HttpClient {
  abstract post(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<HttpResponse>;
}

@Injectable()
export class FetchHttpClient extends HttpClient {
  async post(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<HttpResponse> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, body: (await res.text()).slice(0, 500) };
  }
}
