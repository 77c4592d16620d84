// Terminals for the tty tests, driven by python3 (Node can neither open a controlling pty for a child nor
// receive SCM_RIGHTS): a pty driver that plays typed input and resizes, and a console-socket listener
// that receives the master as containerd does.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { runtimeEnv } from './env';
import { sleepMs } from './runtime';

// Runs argv with a new pty (given size) as its controlling terminal and plays steps:
// ["expect", text] waits for text in the output, ["send", text] types it, ["winsize", rows, cols] resizes.
// Prints JSON: output, exit status, whether the terminal was raw during the run and restored afterwards.
const DRIVER = String.raw`
import json, os, sys, pty, termios, fcntl, struct, select, time, signal
spec = json.loads(sys.argv[1])
pid, master = pty.fork()
if pid == 0:
    os.execvp(spec["argv"][0], spec["argv"])
def setsize(r, c):
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", r, c, 0, 0))
setsize(*spec["size"])
# Our own handle on the child's side of the pty, by TIOCGPTPEER: its modes before, during and after.
slave = fcntl.ioctl(master, 0x5441, os.O_RDWR | os.O_NOCTTY)
before = termios.tcgetattr(slave)
out = b""
deadline = time.time() + spec["timeout"]
def pump(until):
    global out
    while time.time() < deadline:
        if until is not None and until.encode() in out:
            return True
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                d = os.read(master, 4096)
            except OSError:
                d = b""
            if not d:
                return until is None
            out += d
        elif until is None:
            p, st = os.waitpid(pid, os.WNOHANG)
            if p:
                return ("reaped", st)
    return False
ok, failed, during = True, None, None
for step in spec["steps"]:
    if step[0] == "expect":
        if not pump(step[1]):
            ok, failed = False, step[1]
            break
    elif step[0] == "send":
        during = during or termios.tcgetattr(slave)
        os.write(master, step[1].encode())
    elif step[0] == "winsize":
        setsize(step[1], step[2])
reaped = pump(None) if ok else None
if not ok:
    os.kill(pid, signal.SIGKILL)
if isinstance(reaped, tuple):
    status = reaped[1]
else:
    _, status = os.waitpid(pid, 0)
after = termios.tcgetattr(slave)
print(json.dumps({
    "ok": ok, "failedAt": failed, "output": out.decode(errors="replace"),
    "exit": None if status is None else os.waitstatus_to_exitcode(status),
    "restored": before == after,
    "rawDuring": during is not None and (during[3] & termios.ICANON) == 0 and (during[3] & termios.ECHO) == 0,
}))
`;

export interface PtyResult {
  ok: boolean;
  failedAt: string | null;
  output: string;
  exit: number | null;
  restored: boolean;
  rawDuring: boolean;
}

export type PtyStep = ['expect', string] | ['send', string] | ['winsize', number, number];

export function drivePty(argv: string[], size: [number, number], steps: PtyStep[], timeoutMs = 20_000): PtyResult {
  const r = spawnSync('python3', ['-c', DRIVER, JSON.stringify({ argv, size, steps, timeout: timeoutMs / 1000 })], {
    encoding: 'utf8',
    env: runtimeEnv(),
    timeout: timeoutMs + 5_000,
    killSignal: 'SIGKILL',
  });
  if (r.status !== 0) throw new Error(`pty driver failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as PtyResult;
}

// Accepts connections on a console socket, as containerd's shim does: recvmsg each (room for 8 fds),
// reports what came, checks the fd is a pty master (TIOCGPTN, fdinfo tty-index), writes the input,
// then reads the container's output until the pty's other side is gone. One JSON line per connection.
const LISTENER = String.raw`
import json, os, socket, sys, fcntl, struct, select, time
path, count, text = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
open(path + ".ready", "w").close()
held = []
for _ in range(count):
    c, _ = s.accept()
    msg, fds, flags, _ = socket.recv_fds(c, 4096, 8)
    res = {"payload": msg.decode(errors="replace"), "nfds": len(fds), "truncated": bool(flags & socket.MSG_CTRUNC)}
    if fds:
        m = fds[0]
        try:
            res["ptn"] = struct.unpack("I", fcntl.ioctl(m, 0x80045430, b"\0" * 4))[0]
        except OSError as e:
            res["ptn"] = None
        info = open("/proc/self/fdinfo/%d" % m).read()
        res["ttyIndex"] = "tty-index:" in info
        if count == 1:
            os.write(m, text.encode())
            out, deadline = b"", time.time() + 20
            while time.time() < deadline:
                r, _, _ = select.select([m], [], [], 0.1)
                if not r:
                    continue
                try:
                    d = os.read(m, 4096)
                except OSError:
                    break
                if not d:
                    break
                out += d
            res["output"] = out.decode(errors="replace")
        # Kept open until we exit, as a shim does: a closed master hangs the pty up under the container.
        held.extend(fds)
    c.close()
    print(json.dumps(res), flush=True)
`;

export interface Received {
  payload: string;
  nfds: number;
  truncated: boolean;
  ptn?: number | null;
  ttyIndex?: boolean;
  output?: string;
}

export interface Listener {
  pid: number;
  /** Resolves with one record per connection once `count` connections were served. */
  done: Promise<Received[]>;
  /** SIGKILLs the listener (if still running) and waits until it is gone. */
  kill(): Promise<void>;
}

/** With count 1 the listener also types `input` and collects the output; with more it only receives. */
export function consoleListener(sockPath: string, count: number, input = ''): Listener {
  const child = spawn('python3', ['-c', LISTENER, sockPath, String(count), input], { env: runtimeEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const done = new Promise<Received[]>((resolve, reject) =>
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`console listener failed (${code}): ${err}`));
      else resolve(out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Received));
    }),
  );
  const deadline = Date.now() + 10_000;
  while (!fs.existsSync(`${sockPath}.ready`)) {
    if (Date.now() > deadline) throw new Error(`console listener did not start: ${err}`);
    sleepMs(10);
  }
  // A listener killed before it served everyone rejects done; tests that kill it do not await done then.
  done.catch(() => undefined);
  return {
    pid: child.pid ?? -1,
    done,
    kill: async () => {
      child.kill('SIGKILL');
      await closed;
    },
  };
}
