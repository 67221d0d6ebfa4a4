/**
 * A fake OpenAI- and Anthropic-compatible provider on 127.0.0.1: chat
 * (streamed and not), embeddings, the model list and Anthropic's messages.
 * It records the credential each request for each model carried, so the
 * test can assert LiteLLM sent the right provider key per model.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface ProviderCall {
  path: string;
  model: string;
  credential: string;
  stream: boolean;
}

export interface FakeProvider {
  url: string;
  calls: ProviderCall[];
  stop(): Promise<void>;
}

export const EMBEDDING_DIMENSIONS = 1536;

/** A prompt containing this gets HTTP 500 from the fake provider: the test's way to cause LiteLLM's failure metrics. */
export const FAIL_MARKER = '[fake-provider: fail this request]';

/** A bag-of-words vector: texts sharing words are close, so retrieval ranks by content. */
export function fakeEmbedding(text: string): number[] {
  const vector = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    const digest = createHash('sha256').update(word).digest();
    vector[digest.readUInt16BE(0) % EMBEDDING_DIMENSIONS]! += 1;
  }
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0)) || 1;
  return vector.map((x) => x / norm);
}

export function replyFor(model: string, prompt: string): string {
  return `fake ${model} says: ${prompt.slice(0, 200)}`;
}

async function body(request: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

function lastUserText(messages: any[]): string {
  const last = [...(messages ?? [])].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  return typeof last.content === 'string' ? last.content : (last.content ?? []).map((part: any) => part.text ?? '').join('');
}

function json(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(value));
}

export async function startFakeProvider(): Promise<FakeProvider> {
  const calls: ProviderCall[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const path = (request.url ?? '').split('?')[0]!;
      const credential = String(request.headers.authorization ?? request.headers['x-api-key'] ?? '');
      if (request.method === 'GET' && path === '/v1/models') {
        return json(response, 200, { object: 'list', data: ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'].map((id) => ({ id, object: 'model', owned_by: 'fake' })) });
      }
      const input = await body(request);
      const model = String(input.model ?? '');
      const stream = input.stream === true;
      calls.push({ path, model, credential, stream });
      if (path === '/v1/embeddings') {
        const texts: string[] = Array.isArray(input.input) ? input.input : [input.input];
        return json(response, 200, { object: 'list', model, data: texts.map((text, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(String(text)) })), usage: { prompt_tokens: 1, total_tokens: 1 } });
      }
      if (lastUserText(input.messages).includes(FAIL_MARKER)) {
        return json(response, 500, { error: { message: 'fake provider: failing on purpose (FAIL_MARKER)', type: 'server_error' } });
      }
      if (path === '/v1/chat/completions') {
        const text = replyFor(model, lastUserText(input.messages));
        const created = Math.floor(Date.now() / 1000);
        if (!stream) {
          return json(response, 200, { id: 'chatcmpl-fake', object: 'chat.completion', created, model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } });
        }
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const words = text.split(/(?<= )/);
        for (const [i, word] of words.entries()) {
          response.write(`data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: word } : { content: word }, finish_reason: null }] })}\n\n`);
        }
        response.write(`data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
        response.end('data: [DONE]\n\n');
        return;
      }
      if (path === '/v1/messages') {
        const text = replyFor(model, lastUserText(input.messages));
        const message = { id: 'msg_fake', type: 'message', role: 'assistant', model, content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 3, output_tokens: 5 } };
        if (!stream) return json(response, 200, message);
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const event = (type: string, data: unknown) => response.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
        event('message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { input_tokens: 3, output_tokens: 0 } } });
        event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
        for (const word of text.split(/(?<= )/)) event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: word } });
        event('content_block_stop', { type: 'content_block_stop', index: 0 });
        event('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } });
        event('message_stop', { type: 'message_stop' });
        response.end();
        return;
      }
      json(response, 404, { error: { message: `fake provider: no route ${request.method} ${path}` } });
    })().catch((error: Error) => json(response, 500, { error: { message: error.message } }));
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    stop: () => new Promise<void>((resolveClose) => { server.closeAllConnections(); server.close(() => resolveClose()); }),
  };
}
