/** A minimal cookie-keeping client for the console's HTML forms (the HTTP-level tests). */
export class ConsoleClient {
  cookies: Record<string, string> = {};

  constructor(readonly base: string) {}

  private store(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = decodeURIComponent(pair.slice(eq + 1));
      if (/Max-Age=0/i.test(c) || value === '') delete this.cookies[name];
      else this.cookies[name] = value;
    }
  }

  cookieHeader(): string {
    return Object.entries(this.cookies)
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join('; ');
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
    const res = await fetch(this.base + path, { headers: { cookie: this.cookieHeader(), ...headers }, redirect: 'manual' });
    this.store(res);
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  async post(path: string, form: Record<string, string>): Promise<{ status: number; text: string; headers: Headers }> {
    const res = await fetch(this.base + path, {
      method: 'POST',
      headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    });
    this.store(res);
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  static field(html: string, name: string): string {
    const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
    if (!m) throw new Error(`no field ${name} in page`);
    return m[1].replace(/&amp;/g, '&');
  }

  async login(key: string, name = ''): Promise<{ status: number; location: string | null; text: string }> {
    const form = await this.get('/console/login');
    const res = await this.post('/console/login', { _csrf: ConsoleClient.field(form.text, '_csrf'), key, name, next: '/console/accounts' });
    return { status: res.status, location: res.headers.get('location'), text: res.text };
  }

  /** The session-bound CSRF token, as the pages embed it in their forms. */
  async csrf(): Promise<string> {
    return ConsoleClient.field((await this.get('/console/handoffs')).text, '_csrf');
  }
}
