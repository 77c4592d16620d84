// Container id rules: the same character set runc accepts, so ids are safe as path components.
// Owns validateId.
export function validateId(id: string | undefined): string {
  if (!id) throw new Error('container id cannot be empty');
  if (!/^[\w+.-]+$/.test(id) || id === '.' || id === '..') throw new Error(`invalid container ID format: ${id}`);
  if (id.length > 1024) throw new Error(`invalid container ID format: ${id}: too long`);
  return id;
}
