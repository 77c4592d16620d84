// What every resource writer gets: the cgroup directory, its available controllers (cgroup.controllers,
// i.e. those enabled in the parent's subtree_control), a writer that names the field, and a warning sink.
import { CgroupWriteError, readOptional, writeFile } from './files';

export interface ApplyContext {
  dir: string;
  controllers: Set<string>;
  write(file: string, value: string, field: string): void;
  warn(message: string): void;
}

export function readControllers(dir: string): Set<string> {
  return new Set((readOptional(dir, 'cgroup.controllers') ?? '').split(/\s+/).filter(Boolean));
}

export function makeContext(dir: string, warn: (m: string) => void): ApplyContext {
  const controllers = readControllers(dir);
  return {
    dir,
    controllers,
    warn,
    write(file, value, field) {
      try {
        writeFile(dir, file, value, field);
      } catch (e) {
        // A missing file usually means the controller is not enabled for this cgroup: say so.
        const controller = file.split('.')[0];
        if (e instanceof CgroupWriteError && e.code === 'ENOENT' && controller !== 'cgroup' && !controllers.has(controller)) {
          throw new CgroupWriteError(field, file, e.code, `no such file or directory (the ${controller} controller is not available in ${dir})`);
        }
        throw e;
      }
    },
  };
}
