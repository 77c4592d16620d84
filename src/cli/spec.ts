// `ocirun spec`: writes runc's default config.json template into the bundle.
// Owns refusing to overwrite an existing file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { specTemplate } from '../oci';
import type { Command } from './command';

const cmd: Command = {
  usage: 'spec',
  args: '',
  flags: [
    { name: 'bundle', type: 'string', usage: 'path to the root of the bundle directory', aliases: ['b'] },
    { name: 'rootless', type: 'bool', usage: 'generate a configuration for a rootless container' },
  ],
  run(_g, f) {
    const dir = (f.bundle as string | undefined) ?? '.';
    const file = path.join(dir, 'config.json');
    if (fs.existsSync(file)) throw new Error('File config.json exists. Remove it first');
    const text = JSON.stringify(specTemplate({ rootless: !!f.rootless }), null, '\t');
    fs.writeFileSync(file, text, { mode: 0o666 });
  },
};
export default cmd;
