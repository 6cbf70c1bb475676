import * as path from 'node:path';
import { loadTeamDirectory, parseTeamDirectory } from '../../src/accounts/team-directory';
import { ROOT } from '../support/app';

describe('team directory (team.yaml)', () => {
  it('loads the shipped directory', () => {
    const loaded = loadTeamDirectory(path.join(ROOT, 'team.yaml'));
    expect(loaded.ok && loaded.team.csms.get('csm-tanaka')).toEqual({
      id: 'csm-tanaka',
      name: '田中 美咲',
      email: 'misaki.tanaka@touchline.example',
      title: 'カスタマーサクセスマネージャー',
    });
  });

  it('reports each bad entry with file:line:col', () => {
    const text = [
      'csms:',
      '  - id: csm-a',
      '    name: A',
      '    email: not-an-email',
      '  - id: csm-a',
      '    name: B',
      '    email: b@example.com',
      '    webhook: ftp://x',
      '    phone: 123',
      '  - name: C',
      '    email: c@example.com',
    ].join('\n');
    expect(parseTeamDirectory(text, 'team.yaml')).toEqual({
      ok: false,
      problems: [
        { path: 'team.yaml:4:12', message: 'csms[0].email: "not-an-email" is not an email address' },
        { path: 'team.yaml:9:5', message: 'csms[1]: unknown field "phone" (expected id, name, email, title, webhook)' },
        { path: 'team.yaml:8:14', message: 'csms[1].webhook: expected an http(s) URL' },
        { path: 'team.yaml:10:5', message: 'csms[2].id: required' },
      ],
    });
    expect(parseTeamDirectory('csms:\n  - id: x\n    name: X\n    email: x@example.com\n  - id: x\n    name: Y\n    email: y@example.com\n', 'team.yaml')).toEqual({
      ok: false,
      problems: [{ path: 'team.yaml:5:9', message: 'csms[1].id: "x" is listed twice' }],
    });
    expect(parseTeamDirectory('csms: [\n', 'team.yaml').ok).toBe(false);
  });

  it('a missing file is an empty directory', () => {
    const loaded = loadTeamDirectory('/nonexistent/team.yaml');
    expect(loaded.ok && loaded.team.csms.size).toBe(0);
  });
});
