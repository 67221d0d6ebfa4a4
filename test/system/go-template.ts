/**
 * The part of ESO's template engine (Go text/template, `engineVersion: v2`)
 * that the rendered ExternalSecrets use: `{{ .key }}` and `{{ .key | urlquery }}`.
 * Anything else is refused with the template and the construct named, so a
 * generator change that starts using another function fails here loudly
 * instead of being evaluated wrongly.
 */

/** Go's url.QueryEscape: unreserved bytes stay, space becomes `+`, the rest `%XX` (upper case). */
export function goQueryEscape(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(char)) out += char;
    else if (char === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const FUNCTIONS: Record<string, (value: string) => string> = { urlquery: goQueryEscape };

export class TemplateError extends Error {}

/** Evaluates one template string on the secret's data; `where` names it in errors. */
export function evaluateTemplate(template: string, data: Record<string, string>, where: string): string {
  // A quoted string inside an action is consumed whole, so `{{ "}}" }}` is one action (as Go's lexer reads it).
  return template.replace(/\{\{((?:"(?:[^"\\]|\\.)*"|.)*?)\}\}/gs, (_match, body: string) => {
    // A string literal, e.g. `{{ "{{" }}`: how a template writes braces meant for the Secret's consumer.
    const literal = /^\s*("(?:[^"\\]|\\.)*")\s*$/.exec(body);
    if (literal) return JSON.parse(literal[1]!) as string;
    const parts = body.trim().split('|').map((part) => part.trim());
    const ref = /^\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(parts[0] ?? '');
    if (!ref) throw new TemplateError(`${where}: template action {{${body}}} is not \`.key\` or \`.key | function\`; the system test evaluates only those (extend test/system/go-template.ts)`);
    const key = ref[1]!;
    if (!(key in data)) throw new TemplateError(`${where}: template uses .${key}, but the ExternalSecret's data has no secretKey ${key} (has: ${Object.keys(data).join(', ')})`);
    let value = data[key]!;
    for (const name of parts.slice(1)) {
      const fn = FUNCTIONS[name];
      if (!fn) throw new TemplateError(`${where}: template function ${name} is not implemented here (known: ${Object.keys(FUNCTIONS).join(', ')})`);
      value = fn(value);
    }
    return value;
  });
}
