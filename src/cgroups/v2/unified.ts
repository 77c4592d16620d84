// linux.resources.unified: raw cgroup2 files written verbatim, last, with runc's checks (a file name,
// not a path; a clear error when the controller it belongs to is not available).
import type { ApplyContext } from './context';
import { CgroupWriteError, RESOURCES } from './files';

export function setUnified(ctx: ApplyContext, unified: Record<string, string> | undefined): void {
  for (const [key, value] of Object.entries(unified ?? {})) {
    const field = `${RESOURCES}.unified[${JSON.stringify(key)}]`;
    if (key.includes('/') || key === '' || key === '.' || key === '..') {
      throw new Error(`${field}: must be a file name (no slashes)`);
    }
    try {
      ctx.write(key, value, field);
    } catch (e) {
      if (e instanceof CgroupWriteError && (e.code === 'ENOENT' || e.code === 'EPERM' || e.code === 'EACCES')) {
        const dot = key.indexOf('.');
        if (dot <= 0) throw new Error(`${field}: must be in the form CONTROLLER.PARAMETER`);
        const controller = key.slice(0, dot);
        if (controller !== 'cgroup' && !ctx.controllers.has(controller)) {
          throw new Error(`${field}: cannot be set: controller ${JSON.stringify(controller)} not available`);
        }
      }
      throw e;
    }
  }
}
