/** Parsing of /proc/self/mountinfo, and the layers of an overlay mount. */
import * as fs from 'node:fs';

export interface MountInfo {
  mountPoint: string;
  root: string;
  fsType: string;
  source: string;
  options: string;
  superOptions: string;
}

/** mountinfo escapes space, tab, newline and backslash as three-digit octal. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function readMountInfo(file = '/proc/self/mountinfo'): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (dash < 0) continue;
    out.push({
      root: unescapeOctal(fields[3]),
      mountPoint: unescapeOctal(fields[4]),
      options: fields[5],
      fsType: fields[dash + 1],
      source: unescapeOctal(fields[dash + 2]),
      superOptions: unescapeOctal(fields[dash + 3] ?? ''),
    });
  }
  return out;
}

/** The mount whose mount point is exactly `target`, topmost if several are stacked. */
export function findMount(target: string, mounts = readMountInfo()): MountInfo | undefined {
  let found: MountInfo | undefined;
  for (const m of mounts) if (m.mountPoint === target) found = m;
  return found;
}

export interface OverlayLayers {
  lower: string[];
  upper: string;
  work: string;
  /** Options other than the layer paths, passed on when the overlay is rebuilt. */
  extra: string[];
}

/**
 * Splits overlay super options. Paths in lowerdir are separated by ':', and a literal ':' or ','
 * in a path is escaped with a backslash; mountinfo shows them as the mounter gave them.
 */
export function overlayLayers(superOptions: string): OverlayLayers {
  const opts: string[] = [];
  let cur = '';
  for (let i = 0; i < superOptions.length; i++) {
    const c = superOptions[i];
    if (c === '\\' && i + 1 < superOptions.length) {
      cur += c + superOptions[++i];
    } else if (c === ',') {
      opts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  opts.push(cur);
  const layers: OverlayLayers = { lower: [], upper: '', work: '', extra: [] };
  for (const opt of opts) {
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (key === 'lowerdir') {
      layers.lower = value
        .split(/(?<!\\):/)
        .filter((p) => p !== '')
        .map((p) => p.replace(/\\(.)/g, '$1'));
    } else if (key === 'upperdir') {
      layers.upper = value.replace(/\\(.)/g, '$1');
    } else if (key === 'workdir') {
      layers.work = value.replace(/\\(.)/g, '$1');
    } else if (key === 'volatile') {
      layers.extra.push(opt);
    }
  }
  return layers;
}
