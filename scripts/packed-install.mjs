// What another team gets: the published packages packed with `npm pack` and installed from the tarballs into an
// empty project. Shared by scripts/check-packages.mjs (smoke calls) and bench/footprint.mjs (install sizes).
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '..');

/** The workspace packages that are published (not `private`), with their folder and package.json. */
export function publishedPackages() {
  const out = [];
  for (const dir of readdirSync(path.join(root, 'packages')).sort()) {
    let pkg;
    try {
      pkg = JSON.parse(readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8'));
    } catch {
      continue; // not a package folder
    }
    if (!pkg.private) out.push({ name: pkg.name, dir: path.join(root, 'packages', dir), pkg });
  }
  return out;
}

/** `npm pack` each package into `dest`; returns name -> { tarball, files } (the paths inside the tarball). */
export function packAll(packages, dest) {
  const packed = new Map();
  for (const { name, dir } of packages) {
    const [info] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dest], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
    packed.set(name, { tarball: path.join(dest, info.filename), files: info.files.map((f) => f.path) });
  }
  return packed;
}

/** An empty project in `dir` with `specs` (tarball paths or registry specs) installed, as a user would. */
export function installInto(dir, specs) {
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}
