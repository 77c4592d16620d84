// The container's network namespace before its init runs user code: loopback up in a new one (runc), then
// linux.netDevices moved in from the host, renamed if asked (runc 1.3). After that the namespace's owner owns them.
import * as fs from 'node:fs';
import type { LinuxNetDevice, Spec } from '../oci';
import { keyPath } from '../oci/check';
import { libc } from '../linux/libc';
import { isErrno } from '../linux/errors';
import { CLONE_NEWNET, O_CLOEXEC } from '../linux/constants';
import { IFA_F_PERMANENT, RT_SCOPE_UNIVERSE, RtNetlink, type LinkAddress } from '../linux/netlink';

export function setupNetwork(spec: Spec, initPid: number): void {
  const netns = (spec.linux?.namespaces ?? []).find((n) => n.type === 'network');
  if (!netns) return;
  const devices = Object.entries(spec.linux?.netDevices ?? {});
  // A joined namespace is someone else's: runc touches its loopback only when it made the namespace.
  if (netns.path && devices.length === 0) return;
  const target = fs.openSync(`/proc/${initPid}/ns/net`, fs.constants.O_RDONLY | O_CLOEXEC);
  const own = fs.openSync('/proc/thread-self/ns/net', fs.constants.O_RDONLY | O_CLOEXEC);
  let inside: RtNetlink | undefined;
  try {
    // One socket in the container's namespace serves the loopback and every device moved in.
    inside = socketIn(target, own);
    if (!netns.path) inside.setLinkUp(inside.linkIndex('lo'), true);
    moveNetDevices(devices, target, own, inside);
  } finally {
    inside?.close();
    fs.closeSync(target);
    fs.closeSync(own);
  }
}

/*
 * As the spec and runc 1.3 say, nothing is moved back on delete: when the container's own network
 * namespace goes away the kernel destroys virtual devices and returns physical ones to the initial
 * namespace; in a joined namespace the devices stay with it. The same holds when create fails after
 * some devices have moved.
 */
function moveNetDevices(entries: [string, LinuxNetDevice][], target: number, own: number, inside: RtNetlink): void {
  if (entries.length === 0) return;
  const t = fs.fstatSync(target);
  const o = fs.fstatSync(own);
  if (t.dev === o.dev && t.ino === o.ino) {
    throw new Error("linux.netDevices: the container's network namespace is the runtime's own, so there is nowhere to move devices to");
  }
  const host = RtNetlink.open();
  try {
    // Every name is resolved before anything moves, so a typo leaves all interfaces where they were.
    const plan = entries.map(([name, d]) => {
      const where = keyPath('linux.netDevices', name);
      try {
        return { name, where, newName: d.name || name, index: host.linkIndex(name) };
      } catch (e) {
        if (isErrno(e, 'ENODEV')) throw new Error(`${where}: the host has no network interface named ${JSON.stringify(name)}`);
        throw new Error(`${where}: ${(e as Error).message}`);
      }
    });
    for (const p of plan) {
      try {
        moveOne(host, inside, p.index, p.newName, target);
      } catch (e) {
        throw new Error(`${p.where}: cannot move ${p.name} into the container's network namespace as ${p.newName}: ${(e as Error).message}`);
      }
    }
  } finally {
    host.close();
  }
}

// runc 1.3's order: down on the host, move and rename at once, re-add the addresses the kernel drops
// on a move (only permanent, global ones: the rest belong to the host's network), then up.
function moveOne(host: RtNetlink, inside: RtNetlink, index: number, newName: string, target: number): void {
  const keep = host.addresses(index).filter((a: LinkAddress) => a.flags & IFA_F_PERMANENT && a.scope === RT_SCOPE_UNIVERSE);
  host.setLinkUp(index, false);
  host.moveLink(index, newName, target);
  const moved = inside.linkIndex(newName);
  for (const a of keep) inside.addAddress(moved, a);
  inside.setLinkUp(moved, true);
}

// A netlink socket belongs to the network namespace its creator was in. setns(CLONE_NEWNET) is allowed
// in a multithreaded process and changes only the calling thread, so the main thread goes there and back.
function socketIn(netns: number, own: number): RtNetlink {
  const l = libc();
  l.setns(netns, CLONE_NEWNET);
  try {
    return RtNetlink.open();
  } finally {
    l.setns(own, CLONE_NEWNET);
  }
}
