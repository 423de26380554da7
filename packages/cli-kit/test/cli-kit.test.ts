import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { commanderExitCode, exitCodeOf, oneLineSafe, packageVersion, reportFailure, terminalSafe, wantsStack } from '../src/index.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'cli-kit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the bins\' command-line convention', () => {
  it('escapes what a terminal would act on and keeps ordinary text', () => {
    const esc = String.fromCharCode(27);
    expect(terminalSafe(`a${esc}[31mb`)).toBe('a\\u001b[31mb');
    expect(terminalSafe('tab\there\nnewline')).toBe('tab\there\nnewline');
    expect(terminalSafe('bidi\u202eevil')).toBe('bidi\\u202eevil');
    expect(oneLineSafe('bad\nvalue\n')).toBe('bad\\nvalue\n');
  });

  it('maps errors to exit codes: 2 and 75 when asked for, else 1; commander help and version are 0, its refusals 2', () => {
    expect(exitCodeOf(Object.assign(new Error('x'), { exitCode: 2 }))).toBe(2);
    expect(exitCodeOf(Object.assign(new Error('x'), { exitCode: 75 }))).toBe(75);
    expect(exitCodeOf(Object.assign(new Error('x'), { exitCode: 9 }))).toBe(1);
    expect(exitCodeOf('not an error')).toBe(1);
    expect(commanderExitCode(new CommanderError(0, 'commander.helpDisplayed', ''))).toBe(0);
    expect(commanderExitCode(new CommanderError(1, 'commander.unknownOption', 'x'))).toBe(2);
    expect(commanderExitCode(new Error('plain'))).toBeUndefined();
  });

  it('prints a failure on one escaped line, with the stack only when asked', () => {
    const lines: string[] = [];
    const error = Object.assign(new Error(`no such batch "${String.fromCharCode(27)}x"`), { exitCode: 2 });
    expect(reportFailure('bin', error, { stderr: (t) => lines.push(t), stack: false })).toBe(2);
    expect(lines).toEqual(['bin: no such batch "\\u001bx"\n']);
    lines.length = 0;
    reportFailure('bin', new Error('boom'), { stderr: (t) => lines.push(t), stack: true });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('boom');
    expect(wantsStack(['run', '--verbose'], {})).toBe(true);
    expect(wantsStack(['run'], { DEBUG: '1' })).toBe(true);
    expect(wantsStack(['run'], { DEBUG: '0' })).toBe(false);
  });

  it('finds the calling package\'s own version upwards from a file URL or a path, and never another package\'s', () => {
    const pkg = path.join(dir, 'pkg');
    mkdirSync(path.join(pkg, 'dist'), { recursive: true });
    writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: '@scope/mine', version: '1.2.3' }));
    const file = path.join(pkg, 'dist', 'cli.js');
    expect(packageVersion('@scope/mine', pathToFileURL(file).href)).toBe('1.2.3');
    expect(packageVersion('@scope/mine', file)).toBe('1.2.3');
    expect(packageVersion('@scope/other', file)).toBe('0.0.0-unknown');
    expect(packageVersion('@scope/mine', undefined)).toBe('0.0.0-unknown');
  });
});
