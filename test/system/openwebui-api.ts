/** The few Open WebUI HTTP calls the journeys make, with errors that show the answer. */
export class OpenWebui {
  constructor(readonly url: string) {}

  async call(method: string, path: string, token: string | undefined, body?: unknown, form?: FormData): Promise<{ status: number; json: any; text: string }> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.url}${path}`, { method, headers, body: form ?? (body === undefined ? undefined : JSON.stringify(body)), signal: AbortSignal.timeout(180_000) });
    const text = await response.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text };
  }

  async ok(method: string, path: string, token: string | undefined, body?: unknown, form?: FormData): Promise<any> {
    const answer = await this.call(method, path, token, body, form);
    if (answer.status < 200 || answer.status >= 300) throw new Error(`${method} ${path}: HTTP ${answer.status}: ${answer.text.slice(0, 600)}`);
    return answer.json ?? answer.text;
  }

  signup(name: string, email: string, password: string) {
    return this.call('POST', '/api/v1/auths/signup', undefined, { name, email, password });
  }

  async signin(email: string, password: string): Promise<{ token: string; role: string }> {
    return this.ok('POST', '/api/v1/auths/signin', undefined, { email, password });
  }
}
