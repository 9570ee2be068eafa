/**
 * Reading a config file as the commands do: a file in plain YAML (most are) is read without the YAML library, which
 * then never loads; any other file, and any file with a problem, is read again with the library (./config.ts), so
 * that what is reported, and where, is the same either way.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { quickYaml } from './quick-yaml.js';
import { placer, validateConfig, withOverrides, type ConfigOverrides, type LoadedConfig } from './validate.js';

export async function readConfigFile(file: string, overrides: ConfigOverrides = {}): Promise<LoadedConfig> {
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    // The library's reader says why the file cannot be read.
  }
  const quick = text === undefined ? undefined : quickYaml(text);
  if (text !== undefined && quick !== undefined) {
    const { merged, fromFlags } = withOverrides(quick.value, overrides);
    try {
      return { config: validateConfig(merged), file, place: placer(fromFlags, (path) => quick.locate(path)) };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
    }
  }
  const { configFromText, loadConfigFile } = await import('./config.js');
  return text === undefined ? loadConfigFile(file, overrides) : configFromText(text, file, overrides);
}
