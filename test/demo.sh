#!/usr/bin/env bash
# `make demo`: builds a busybox bundle from Debian's busybox-static, writes the default spec with
# `ocirun spec`, and runs one container with it, then cleans up.
set -euo pipefail
bin="$(cd "$(dirname "$0")/.." && pwd)/dist/ocirun"
dir=$(mktemp -d /tmp/ocirun-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/etc" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/rootfs/tmp"
cp /bin/busybox "$dir/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$dir/rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/rootfs/etc/passwd"
echo 'root:x:0:' > "$dir/rootfs/etc/group"
cd "$dir"
"$bin" spec
# The template asks for a terminal (as runc's does); the demo runs without one.
sed -i 's/"terminal": true/"terminal": false/' config.json
sed -i 's/^\t\t\t"sh"$/\t\t\t"sh", "-c", "echo hello from $(hostname): pid $$, $(id); cat \/proc\/self\/cgroup | head -3"/' config.json
"$bin" --root "$dir/state" run "demo-$$"
