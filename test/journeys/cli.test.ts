import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { jsonSchema } from '../../src/cli/journeys.command';

const ROOT = path.join(__dirname, '../..');

function cli(args: string[], env: Record<string, string> = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-cli-'));
  return spawnSync(process.execPath, [path.join(ROOT, 'bin/touchline.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DATA_DIR: dataDir, ...env } });
}

describe('touchline journeys (CLI)', () => {
  it('validate prints every problem as file:line:col and exits non-zero', () => {
    const fixtures = path.join(__dirname, 'fixtures');
    const r = cli(['journeys', 'validate', '--offline', path.join(fixtures, 'invalid')], { JOURNEYS_DIR: fixtures });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('test/journeys/fixtures/invalid/split-sum.yaml:10:7: split percentages add up to 110, not 100 (at steps[0].split)');
    // --offline checks template names against templates/ on disk, but not event names (they live in the database).
    expect(r.stderr).toContain('unknown template "adoption-we-mis-you" (did you mean "adoption-we-miss-you"?)');
    expect(r.stdout).toContain('18 file(s): 2 valid, 16 invalid, 17 problem(s)');
    expect(r.stderr).toContain('event names were not checked');
  });

  it('validate accepts the shipped journeys', () => {
    const r = cli(['journeys', 'validate', '--offline']);
    expect(r.stderr).not.toMatch(/yaml:\d+:\d+/);
    expect(r.status).toBe(0);
  });

  it('the committed JSON Schemas are the ones generated from the zod schema', () => {
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, 'journey.schema.json'), 'utf8'))).toEqual(jsonSchema('journey'));
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, 'segment.schema.json'), 'utf8'))).toEqual(jsonSchema('segment'));
    const r = cli(['journeys', 'schema']);
    expect(JSON.parse(r.stdout)).toEqual(jsonSchema('journey'));
  });
});
