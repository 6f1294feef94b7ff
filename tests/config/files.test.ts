import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseStructuredText } from '../../src/config/index.ts';
import { SINGLE_STUDIO_JSON, messagesOf, problemsOfAsync, scratchDir } from './helpers.ts';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

async function loadMessages(path: string): Promise<string[]> {
  return (await problemsOfAsync(() => loadConfig(path))).map((p) => p.message);
}

describe('unreadable files say which OS error', () => {
  it('ENOENT: the file does not exist', async () => {
    const path = `${scratch.dir}/config/nope.json`;
    expect(await loadMessages(path)).toEqual([
      `${path}: cannot read the file: it does not exist (ENOENT); check the path, or create one with \`fleet init\``,
    ]);
  });

  it('EISDIR: the path is a directory', async () => {
    scratch.write('adir/x.json', '{}');
    expect(await loadMessages(`${scratch.dir}/adir`)).toEqual([
      `${scratch.dir}/adir: cannot read the file: it is a directory (EISDIR); name a file inside it`,
    ]);
  });

  it('EACCES: permission denied', () => {
    const path = scratch.write('locked/workers.json', SINGLE_STUDIO_JSON);
    chmodSync(path, 0o000);
    chmodSync(`${scratch.dir}/locked`, 0o755);
    chmodSync(scratch.dir, 0o755);
    // root reads any file, so as root the loader runs in a child process as `nobody`.
    const asRoot = process.getuid?.() === 0;
    const code = `import { loadConfig } from ${JSON.stringify(new URL('../../src/config/index.ts', import.meta.url).pathname)};
      try { await loadConfig(${JSON.stringify(path)}); console.log('loaded'); } catch (e) { console.log(e.message); }`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      encoding: 'utf8',
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe(
      `${path}: cannot read the file: permission denied (EACCES); check the file permissions (e.g. chmod u+r)\n`,
    );
  });

  it('both the config and the settings file unreadable: both reported', async () => {
    const problems = await problemsOfAsync(() =>
      loadConfig(`${scratch.dir}/a.json`, { settingsPath: `${scratch.dir}/b.yaml` }),
    );
    expect(problems.map((p) => [p.file, p.path, p.expected])).toEqual([
      [`${scratch.dir}/a.json`, '', 'a readable JSON or YAML file'],
      [`${scratch.dir}/b.yaml`, '', 'a readable JSON or YAML file'],
    ]);
  });
});

describe('malformed JSON: line:column and what was expected', () => {
  it.each([
    [
      'trailing comma',
      '{\n  "workers": [\n    { "id": "a", },\n  ]\n}',
      '3:18',
      'expected a double-quoted property name, found "}" (JSON allows no trailing comma)',
    ],
    [
      'trailing comma in a list',
      '{ "workers": [\n  1,\n] }',
      '3:1',
      'expected a value, found "]" (JSON allows no trailing comma)',
    ],
    [
      'missing comma',
      '{\n  "workers": []\n  "settings": {}\n}',
      '3:3',
      `expected ',' or '}' after a property value, found "\\""`,
    ],
    ['single quotes', "{ 'workers': [] }", '1:3', 'expected a double-quoted property name, found "\'"'],
    [
      'unterminated',
      '{\n  "workers": [\n',
      '3:1',
      'expected a value (object, list, string, number, true, false or null), found the end of the file',
    ],
    [
      'garbage after the value',
      '{ "workers": [] }\n}',
      '2:1',
      'expected the end of the file after the top-level value, found "}"',
    ],
    [
      'a comment',
      '{\n  // my fleet\n  "workers": []\n}',
      '2:3',
      'expected a double-quoted property name, found "/"',
    ],
    ['missing colon', '{ "workers" [] }', '1:13', 'expected \':\' after the property name, found "["'],
  ])('%s', (_name, text, pos, reason) => {
    expect(messagesOf(() => parseStructuredText(text, 'config/w.json'))).toEqual([
      `config/w.json:${pos}: malformed JSON: ${reason}`,
    ]);
  });

  it('a duplicated key is an error, not a silent "last one wins"', () => {
    const text = '{ "workers": [\n  { "id": "a", "port": 1234,\n    "port": 1235 } ] }';
    expect(messagesOf(() => parseStructuredText(text, 'config/w.json'))).toEqual([
      'config/w.json:3:5: duplicate key "port" (JSON would silently keep only the last one)',
    ]);
  });

  it('through loadConfig, with the file named as given', async () => {
    const path = scratch.write('bad.json', '{\n  "workers": [\n    { "id": "a" "type": "ollama" }\n  ]\n}\n');
    expect(await loadMessages(path)).toEqual([
      `${path}:3:17: malformed JSON: expected ',' or '}' after a property value, found "\\""`,
    ]);
  });
});

describe('malformed YAML: line:column', () => {
  it.each([
    [
      'bad indentation',
      'workers:\n  - id: a\n   type: ollama\n',
      'c.yaml',
      '3:1',
      'Sequence item without - indicator',
    ],
    [
      'unclosed flow list',
      'workers:\n  - id: a\n    models: [a, b\n',
      'c.yaml',
      '4:1',
      'Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    [
      'duplicate key',
      'workers:\n  - id: a\n    id: b\n',
      'c.yml',
      '3:5',
      'duplicate key (each key may appear once per mapping)',
    ],
    [
      'two documents',
      'workers: []\n---\nsettings: {}\n',
      'c.yaml',
      '2:1',
      'the file holds more than one YAML document (remove the extra "---")',
    ],
    ['tab indentation', 'workers:\n\t- id: a\n', 'c.yaml', '2:1', 'Tabs are not allowed as indentation'],
  ])('%s', (_name, text, file, pos, reason) => {
    const messages = messagesOf(() => parseStructuredText(text, file));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toBe(`${file}:${pos}: malformed YAML: ${reason}`);
  });

  it('an unknown extension that is neither: the error of the format it looks like', () => {
    expect(messagesOf(() => parseStructuredText('{ "workers": [ }', 'workers.conf'))).toEqual([
      'workers.conf:1:16: malformed JSON: expected a value (object, list, string, number, true, false or null), found "}"',
    ]);
    expect(
      messagesOf(() => parseStructuredText('workers:\n  - id: a\n   type: x\n', 'workers.conf')),
    ).toEqual(['workers.conf:3:1: malformed YAML: Sequence item without - indicator']);
  });

  it('a YAML file holding only comments is empty', async () => {
    const path = scratch.write('empty.yaml', '# nothing here yet\n');
    expect(await loadMessages(path)).toEqual([
      `${path}: the file is empty; expected an object like { "workers": [ { "id": ..., "type": ..., "model": ... } ] }`,
    ]);
  });

  it('an empty JSON file is empty too', async () => {
    const path = scratch.write('empty.json', '  \n');
    expect(await loadMessages(path)).toEqual([
      `${path}: the file is empty; expected an object like { "workers": [ { "id": ..., "type": ..., "model": ... } ] }`,
    ]);
  });
});
