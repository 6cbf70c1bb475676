import { loggablePath } from '../../src/common/loggable-path';

describe('paths in logs carry no link token', () => {
  it('leaves out tracking and unsubscribe tokens and query strings, keeps everything else', () => {
    expect(loggablePath('/t/o/v1.abc.def')).toBe('/t/o/…');
    expect(loggablePath('/t/c/v1.abc.def?x=1')).toBe('/t/c/…');
    expect(loggablePath('/t/s/v1.abc/extra')).toBe('/t/s/…/extra');
    expect(loggablePath('/u/v1.abc.def')).toBe('/u/…');
    expect(loggablePath('/v1/batch?writeKey=secret')).toBe('/v1/batch');
    expect(loggablePath('/console/accounts/42')).toBe('/console/accounts/42');
  });
});
