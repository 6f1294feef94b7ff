import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildMessages,
  checkTemplate,
  discoverFiles,
  documentBudgetChars,
  extractDocument,
  findPreset,
  fitDocument,
  htmlToText,
  Journal,
  looksBinary,
  parsePresets,
  renderTemplate,
  type ResolvedPrompt,
} from '../../src/batch/index.ts';
import { makePdf, tempDir } from './helpers.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function tmp() {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

const vars = { filename: 'a.txt', path: 'docs/a.txt', title: 'A' };
const prompt = (template: string, extra: Partial<ResolvedPrompt> = {}): ResolvedPrompt => ({
  index: 0,
  name: 'p',
  template,
  maxTokens: 100,
  ...extra,
});

describe('templates', () => {
  it('renders every placeholder and {{ }} as literal braces, leaving JSON-like braces alone', () => {
    expect(renderTemplate('{filename} {path} {title} {{x}} {"k": 1}', { ...vars, content: 'C' })).toBe(
      'a.txt docs/a.txt A {x} {"k": 1}',
    );
  });

  it('rejects an unknown placeholder, naming it and the known ones', () => {
    expect(() => checkTemplate('Summarise {contents}', '-p #1')).toThrow(
      /-p #1: unknown placeholder \{contents\}.*known: \{filename\}, \{content\}, \{path\}, \{title\}/,
    );
  });

  it('lays out one {content} as document first, instruction last, with the shared system first', () => {
    const a = buildMessages({
      prompt: prompt('Summarise {filename}:\n{content}'),
      sharedSystem: 'SYS',
      vars,
      content: 'DOC',
    });
    const b = buildMessages({
      prompt: prompt('{content}\nList the points of {title}.'),
      sharedSystem: 'SYS',
      vars,
      content: 'DOC',
    });
    expect(a[0]).toEqual({ role: 'system', content: 'SYS' });
    const ua = a[1]!.content as string;
    const ub = b[1]!.content as string;
    expect(ua).toBe('Document: a.txt\n\nDOC\n\n---\n\nSummarise a.txt:');
    expect(ub.endsWith('List the points of A.')).toBe(true);
    // The shared prefix covers the system message and the whole document.
    const common = ua.split('').findIndex((c, i) => c !== ub[i]);
    expect(common).toBeGreaterThanOrEqual('Document: a.txt\n\nDOC'.length);
  });

  it("puts a prompt's own system text after the document, and renders 0 or 2 {content} in place", () => {
    const own = buildMessages({
      prompt: prompt('{content} Q?', { system: 'Be brief.' }),
      sharedSystem: undefined,
      vars,
      content: 'DOC',
    });
    expect(own).toEqual([{ role: 'user', content: 'Document: a.txt\n\nDOC\n\n---\n\nBe brief.\n\nQ?' }]);
    const none = buildMessages({
      prompt: prompt('Title of {filename}?'),
      sharedSystem: undefined,
      vars,
      content: 'DOC',
    });
    expect(none).toEqual([{ role: 'user', content: 'Title of a.txt?' }]);
    const twice = buildMessages({
      prompt: prompt('{content}|{content}'),
      sharedSystem: undefined,
      vars,
      content: 'D',
    });
    expect(twice).toEqual([{ role: 'user', content: 'D|D' }]);
  });
});

describe('presets', () => {
  it("has the older tool's presets with their prompt counts", () => {
    expect(findPreset('research').prompts).toHaveLength(5);
    expect(findPreset('summary').prompts).toHaveLength(3);
    expect(findPreset('analysis').prompts).toHaveLength(3);
    expect(() => findPreset('legal')).toThrow(
      /unknown preset "legal"; presets:[\s\S]*research[\s\S]*summary[\s\S]*analysis/,
    );
  });

  it('parses a presets file with system prompt, max tokens and temperature per prompt', () => {
    const p = parsePresets(
      {
        presets: {
          legal: {
            system: 'You are a lawyer.',
            max_tokens: 300,
            prompts: [
              'Parties in {title}? {content}',
              { name: 'risks', template: '{content} Risks?', temperature: 0.1, max_tokens: 99 },
            ],
          },
        },
      },
      'p.yaml',
    );
    expect(p['legal']).toMatchObject({ system: 'You are a lawyer.', maxTokens: 300 });
    expect(p['legal']!.prompts[1]).toEqual({
      name: 'risks',
      template: '{content} Risks?',
      temperature: 0.1,
      maxTokens: 99,
    });
    expect(findPreset('legal', p).name).toBe('legal');
  });

  it('names the file, path and value of a bad presets file', () => {
    expect(() => parsePresets({ legal: { prompts: [{ template: 'x', temperature: 5 }] } }, 'p.yaml')).toThrow(
      'p.yaml: legal.prompts[0].temperature: expected a number from 0 to 2, got 5',
    );
    expect(() => parsePresets({ legal: { prompts: [] } }, 'p.yaml')).toThrow(
      /p.yaml: legal.prompts: expected a non-empty list/,
    );
    expect(() => parsePresets({ legal: { prompts: ['{oops}'] } }, 'p.yaml')).toThrow(
      /p.yaml: legal.prompts\[0\]: unknown placeholder \{oops\}/,
    );
  });
});

describe('long documents', () => {
  it('chunks at paragraph breaks into parts within the budget, losing nothing', () => {
    const text = Array.from({ length: 40 }, (_, i) => `Paragraph ${i} `.repeat(10)).join('\n\n');
    const f = fitDocument(text, 1000, 'chunk');
    expect(f.parts.length).toBeGreaterThan(3);
    expect(f.parts.join('')).toBe(text);
    for (const p of f.parts) expect(p.length).toBeLessThanOrEqual(1000);
    expect(f.notice).toMatch(/split into \d+ parts/);
  });

  it('truncates with a notice saying how much is shown; short documents pass untouched', () => {
    const f = fitDocument('x '.repeat(2000), 1000, 'truncate');
    expect(f.parts).toHaveLength(1);
    expect(f.truncated).toBe(true);
    expect(f.notice).toMatch(/truncated: the first \d+ of 4000 characters/);
    expect(fitDocument('short', 1000, 'truncate')).toEqual({ parts: ['short'], truncated: false });
  });

  it('budgets the context minus the answer and the prompt, with a margin', () => {
    expect(documentBudgetChars(8192, 512, 'x'.repeat(400))).toBe(
      Math.floor((8192 - 512 - 100 - 16) * 0.9) * 4,
    );
  });
});

describe('documents', () => {
  it('reads the text of a PDF through unpdf, with its title', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'p.pdf'), makePdf(['Hello from a PDF.', 'Second line here.'], 'My Paper'));
    const got = await extractDocument(join(dir, 'p.pdf'));
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(got.text).toContain('Hello from a PDF.');
    expect(got.text).toContain('Second line here.');
    expect(got.title).toBe('My Paper');
  });

  it('reports a broken PDF, a binary file and an empty one with their reasons', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad.pdf'), '%PDF-1.4\nthis is not really a pdf');
    writeFileSync(join(dir, 'bin.txt'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]));
    writeFileSync(join(dir, 'empty.md'), '  \n');
    expect(await extractDocument(join(dir, 'bad.pdf'))).toMatchObject({
      ok: false,
      binary: false,
      reason: expect.stringMatching(/PDF/),
    });
    expect(await extractDocument(join(dir, 'bin.txt'))).toMatchObject({ ok: false, binary: true });
    expect(await extractDocument(join(dir, 'empty.md'))).toMatchObject({
      ok: false,
      reason: 'empty (no text)',
    });
    expect(looksBinary(Buffer.from('plain text, naïve café\n'))).toBe(false);
  });

  it('turns HTML into text: no scripts, styles or tags; entities decoded; title kept', () => {
    const r = htmlToText(
      '<html><head><title>T &amp; U</title><style>p{}</style></head><body><script>x()</script><h1>Head</h1><p>A &lt;b&gt; &#169;</p></body></html>',
    );
    expect(r).toEqual({ text: 'Head\n\nA <b> ©', title: 'T & U' });
  });

  it('walks folders recursively by extension, expands globs, and says what it found instead', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'a/b'), { recursive: true });
    mkdirSync(join(dir, 'empty'));
    writeFileSync(join(dir, 'a/x.txt'), 'x');
    writeFileSync(join(dir, 'a/b/y.md'), 'y');
    writeFileSync(join(dir, 'a/b/z.docx'), 'z');
    writeFileSync(join(dir, 'a/.hidden.txt'), 'h');
    const files = await discoverFiles(['a'], ['.txt', '.md'], dir);
    expect(files.map((f) => f.rel)).toEqual(['a/b/y.md', 'a/x.txt']);
    expect((await discoverFiles(['a/**/*.md'], ['.txt', '.md'], dir)).map((f) => f.rel)).toEqual([
      'a/b/y.md',
    ]);
    await expect(discoverFiles(['empty'], ['.txt'], dir)).rejects.toThrow(
      '-i/--input: folder empty is empty',
    );
    await expect(discoverFiles(['nope'], ['.txt'], dir)).rejects.toThrow(
      '-i/--input: nope: no such file or folder',
    );
    await expect(discoverFiles(['a'], ['.pdf'], dir)).rejects.toThrow(
      /no files with extensions .pdf in a \(found 3 other files: .md \(1\), .docx \(1\), .txt \(1\)\)/,
    );
  });
});

describe('journal', () => {
  it('keeps records across opens and refuses a journal of another job, saying what differs', () => {
    const dir = tmp();
    const path = join(dir, 'j.sqlite');
    const job = { id: 'a', facts: { model: 'm1', prompts: ['x'] } };
    const j = Journal.open(path, job);
    j.record({
      taskId: 't1',
      file: 'f',
      promptIndex: 0,
      promptName: 'p',
      promptTemplate: 'x',
      prompt: 'x',
      ok: true,
      response: 'r',
      requests: 1,
      attempts: 1,
      latencyS: 1,
      queuedS: 0,
      timestamp: 'now',
    });
    j.close();
    const again = Journal.open(path, job);
    expect(again.all().get('t1')?.response).toBe('r');
    again.close();
    expect(() => Journal.open(path, { id: 'b', facts: { model: 'm2', prompts: ['x'] } })).toThrow(
      /belongs to a different job \(model: journal has "m1", this run "m2"\).*--fresh/,
    );
    const fresh = Journal.open(path, { id: 'b', facts: {} }, { fresh: true });
    expect(fresh.all().size).toBe(0);
    fresh.close();
  });
});
