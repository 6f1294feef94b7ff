import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';

/** A document's text, or why there is none. */
export type Extracted =
  | { ok: true; text: string; title: string }
  | { ok: false; reason: string; /** Binary content, not a broken document. */ binary: boolean };

const HTML = new Set(['.html', '.htm', '.xhtml']);

/**
 * Binary when the first 8 KiB hold a NUL byte, are not valid UTF-8, or are more than 10 %
 * control characters (what `git` and `grep` look at, roughly).
 */
export function looksBinary(buf: Uint8Array): boolean {
  const head = buf.subarray(0, 8192);
  if (head.includes(0)) return true;
  try {
    // A multi-byte character cut at the 8 KiB boundary is not a sign of binary data.
    new TextDecoder('utf-8', { fatal: true }).decode(head.length < buf.length ? trimPartial(head) : head);
  } catch {
    return true;
  }
  let control = 0;
  for (const b of head) if (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12) control++;
  return head.length > 0 && control / head.length > 0.1;
}

function trimPartial(b: Uint8Array): Uint8Array {
  let end = b.length;
  for (let i = 0; i < 4 && end > 0 && (b[end - 1]! & 0xc0) === 0x80; i++) end--;
  if (end > 0 && b[end - 1]! >= 0xc0) end--;
  return b.subarray(0, end);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** The text of an HTML page: scripts, styles and tags removed, block elements as line breaks. */
export function htmlToText(html: string): { text: string; title: string | undefined } {
  const titleMatch = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html);
  const title = titleMatch?.[1] ? decodeEntities(titleMatch[1]).replace(/\s+/g, ' ').trim() : undefined;
  const text = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|noscript|template|head)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(
      /<\/?(p|div|h[1-6]|li|ul|ol|tr|table|section|article|header|footer|blockquote|pre)\b[^>]*>/gi,
      '\n\n',
    )
    .replace(/<[^>]+>/g, '')
    .split('\n')
    .map((l) =>
      decodeEntities(l)
        .replace(/[ \t\f\r]+/g, ' ')
        .trim(),
    )
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { text, title: title || undefined };
}

/** A document's title: its HTML/PDF title, a leading Markdown heading, else the file name without extension. */
function titleOf(file: string, text: string, given?: string): string {
  if (given) return given;
  const heading = /^\s*#\s+(.+)$/m.exec(text.slice(0, 2000));
  if (heading?.[1] && extname(file).toLowerCase() === '.md') return heading[1].trim();
  return basename(file, extname(file));
}

async function pdfText(buf: Uint8Array): Promise<{ text: string; title: string | undefined }> {
  const { extractText, getDocumentProxy, getMeta } = await import('unpdf');
  const pdf = await getDocumentProxy(buf);
  try {
    const { text } = await extractText(pdf, { mergePages: true });
    let title: string | undefined;
    try {
      const meta = await getMeta(pdf);
      const t = (meta.info as Record<string, unknown> | undefined)?.['Title'];
      if (typeof t === 'string' && t.trim() !== '') title = t.trim();
    } catch {
      // Metadata is optional; the file name stands in.
    }
    return { text, title };
  } finally {
    await pdf.destroy();
  }
}

/** Reads one document to text: PDF through unpdf, HTML as text, anything else as UTF-8 text. */
export async function extractDocument(file: string): Promise<Extracted> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a folder' : (err as Error).message;
    return { ok: false, reason: `cannot read: ${why}`, binary: false };
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.pdf') {
    if (buf.subarray(0, 1024).indexOf('%PDF-') < 0)
      return { ok: false, reason: 'not a PDF (no %PDF- header)', binary: false };
    try {
      const { text, title } = await pdfText(new Uint8Array(buf));
      if (text.trim() === '')
        return { ok: false, reason: 'PDF has no text layer (scanned images?)', binary: false };
      return { ok: true, text, title: titleOf(file, text, title) };
    } catch (err) {
      return {
        ok: false,
        reason: `cannot parse PDF: ${err instanceof Error ? err.message : String(err)}`,
        binary: false,
      };
    }
  }
  if (looksBinary(buf)) return { ok: false, reason: 'binary file (not text)', binary: true };
  let text = buf.toString('utf8');
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  let title: string | undefined;
  if (HTML.has(ext)) ({ text, title } = htmlToText(text));
  if (text.trim() === '') return { ok: false, reason: 'empty (no text)', binary: false };
  return { ok: true, text, title: titleOf(file, text, title) };
}
