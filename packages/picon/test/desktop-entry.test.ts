import { describe, expect, it } from 'vitest';
import {
  execProgram,
  localized,
  parseDesktopEntry,
  parseExec,
  parseThemeIndex,
  unescapeValue,
} from '../src/index';
import { directoryMatchesSize, directorySizeDistance } from '../src/linux/icon-theme';

describe('desktop entries (Desktop Entry Specification)', () => {
  const text = [
    '# a comment',
    '[Desktop Entry]',
    'Type=Application',
    'Name=Files',
    'Name[de]=Dateien',
    'Name[sr@latin]=Datoteke',
    'Name[pt_BR]=Arquivos',
    'Comment = spaced around the equals  ',
    'Exec=env GTK_THEME=x "/opt/my app/bin/files" --new-window %U',
    'Icon=org.gnome.Nautilus',
    '',
    '[Desktop Action new]',
    'Name=New Window',
    '[Desktop Entry]',
    'Name=a repeated group is ignored',
  ].join('\n');

  it('reads groups, keys and values; a repeated group does not override', () => {
    const { groups } = parseDesktopEntry(text);
    expect([...groups.keys()]).toEqual(['Desktop Entry', 'Desktop Action new']);
    const entry = groups.get('Desktop Entry')!;
    expect(entry.get('Comment')).toBe('spaced around the equals');
    expect(entry.get('Name')).toBe('Files');
  });

  it('picks localised keys in the order the spec gives', () => {
    const entry = parseDesktopEntry(text).groups.get('Desktop Entry')!;
    expect(localized(entry, 'Name', 'de_DE.UTF-8')).toBe('Dateien');
    expect(localized(entry, 'Name', 'pt_BR.UTF-8')).toBe('Arquivos');
    expect(localized(entry, 'Name', 'sr_RS@latin')).toBe('Datoteke');
    expect(localized(entry, 'Name', 'fr_FR')).toBe('Files');
    expect(localized(entry, 'Name', '')).toBe('Files');
  });

  it('unescapes values', () => {
    expect(unescapeValue('a\\sb\\nc\\td\\\\e\\;')).toBe('a b\nc\td\\e\\;');
  });

  it('splits Exec with quoting rules and drops field codes', () => {
    expect(parseExec('env GTK_THEME=x "/opt/my app/bin/files" --new-window %U')).toEqual([
      'env',
      'GTK_THEME=x',
      '/opt/my app/bin/files',
      '--new-window',
    ]);
    expect(parseExec('prog "say \\"hi\\" for \\$5 \\\\ \\`x\\`" 100%% %f %i %c %k')).toEqual([
      'prog',
      'say "hi" for $5 \\ `x`',
      '100%',
    ]);
    expect(parseExec('prog "unclosed')).toBeUndefined();
    expect(parseExec('')).toEqual([]);
  });

  it('finds the program behind env and flatpak run', () => {
    expect(execProgram(['env', 'A=1', 'B=2', '/usr/bin/gimp', '%U'])).toEqual({ program: '/usr/bin/gimp' });
    expect(
      execProgram(['/usr/bin/flatpak', 'run', '--branch=stable', '--command=gimp', 'org.gimp.GIMP']),
    ).toEqual({
      program: '/usr/bin/flatpak',
      appId: 'org.gimp.GIMP',
    });
    expect(execProgram([])).toEqual({});
  });
});

describe('icon theme index (Icon Theme Specification)', () => {
  const index = parseThemeIndex(
    'test',
    [
      '[Icon Theme]',
      'Name=Test',
      'Inherits=parent,hicolor',
      'Directories=16x16/apps,48x48/apps,scalable/apps,64x64/apps,broken',
      'ScaledDirectories=48x48@2/apps',
      '[16x16/apps]',
      'Size=16',
      'Type=Fixed',
      '[48x48/apps]',
      'Size=48',
      '[scalable/apps]',
      'Size=64',
      'MinSize=8',
      'MaxSize=512',
      'Type=Scalable',
      '[64x64/apps]',
      'Size=64',
      'Threshold=4',
      '[48x48@2/apps]',
      'Size=48',
      'Scale=2',
    ].join('\n'),
  );

  it('reads directories, types, sizes and parents; skips a directory without a group', () => {
    expect(index.inherits).toEqual(['parent', 'hicolor']);
    expect(index.directories.map((d) => d.path)).toEqual([
      '16x16/apps',
      '48x48/apps',
      'scalable/apps',
      '64x64/apps',
      '48x48@2/apps',
    ]);
    expect(index.directories[1]).toMatchObject({ type: 'Threshold', threshold: 2, minSize: 48, maxSize: 48 });
    expect(index.directories[4]).toMatchObject({ scale: 2 });
  });

  it('matches sizes and measures distances as the spec defines', () => {
    const [fixed16, threshold48, scalable, threshold64] = index.directories;
    expect(directoryMatchesSize(fixed16!, 16)).toBe(true);
    expect(directoryMatchesSize(fixed16!, 17)).toBe(false);
    expect(directoryMatchesSize(threshold48!, 50)).toBe(true);
    expect(directoryMatchesSize(threshold48!, 51)).toBe(false);
    expect(directoryMatchesSize(scalable!, 300)).toBe(true);
    expect(directoryMatchesSize(threshold64!, 60)).toBe(true);
    expect(directorySizeDistance(fixed16!, 48)).toBe(32);
    expect(directorySizeDistance(scalable!, 1024)).toBe(512);
    expect(directoryMatchesSize(index.directories[4]!, 48)).toBe(false); // scale 2 is for 2x displays
  });
});
