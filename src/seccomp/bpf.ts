// A classic-BPF assembler for seccomp programs: instructions with symbolic jump targets, linked into
// struct sock_filter[] with trampolines wherever a conditional jump would exceed its 8-bit offset.

export const BPF = {
  LD_W_ABS: 0x20, // ld [k]
  ALU_AND_K: 0x54, // and #k
  JA: 0x05,
  JEQ_K: 0x15,
  JGT_K: 0x25,
  JGE_K: 0x35,
  JSET_K: 0x45,
  RET_K: 0x06,
} as const;

export type Label = number;

type Item =
  | { kind: 'label'; id: Label }
  | { kind: 'op'; code: number; k: number } // loads, ALU, returns
  | { kind: 'ja'; target: Label }
  | { kind: 'jcond'; code: number; k: number; jt: Label; jf: Label };

/** One program under construction. Labels are placed with `mark`; `link` resolves them. */
export class Asm {
  private items: Item[] = [];
  private next = 0;

  label(): Label {
    return this.next++;
  }
  mark(l: Label): void {
    this.items.push({ kind: 'label', id: l });
  }
  load(off: number): void {
    this.items.push({ kind: 'op', code: BPF.LD_W_ABS, k: off });
  }
  and(k: number): void {
    this.items.push({ kind: 'op', code: BPF.ALU_AND_K, k: k >>> 0 });
  }
  ret(k: number): void {
    this.items.push({ kind: 'op', code: BPF.RET_K, k: k >>> 0 });
  }
  ja(target: Label): void {
    this.items.push({ kind: 'ja', target });
  }
  jump(code: number, k: number, jt: Label, jf: Label): void {
    this.items.push({ kind: 'jcond', code, k: k >>> 0, jt, jf });
  }

  // Conditional jumps reach at most 255 instructions ahead. A jump that does not is given a `ja` (32-bit
  // offset) placed right behind it; inserting one only lengthens other jumps, so this repeats until stable.
  link(): Buffer {
    let items = this.items;
    for (;;) {
      const { pos, labels } = layout(items);
      const out: Item[] = [];
      let grew = false;
      items.forEach((it, i) => {
        if (it.kind !== 'jcond') {
          out.push(it);
          return;
        }
        const at = pos[i];
        const far = (l: Label) => (labels.get(l) as number) - at - 1 > 255;
        if (!far(it.jt) && !far(it.jf)) {
          out.push(it);
          return;
        }
        grew = true;
        const jc = { ...it };
        const extra: Item[] = [];
        if (far(it.jt)) {
          const t = this.label();
          jc.jt = t;
          extra.push({ kind: 'label', id: t }, { kind: 'ja', target: it.jt });
        }
        if (far(it.jf)) {
          const f = this.label();
          jc.jf = f;
          extra.push({ kind: 'label', id: f }, { kind: 'ja', target: it.jf });
        }
        out.push(jc, ...extra);
      });
      items = out;
      if (!grew) break;
    }
    const { pos, labels, count } = layout(items);
    if (count > 4096) throw new Error(`seccomp: the compiled filter has ${count} instructions (the kernel's limit is 4096)`);
    const buf = Buffer.alloc(count * 8);
    items.forEach((it, i) => {
      if (it.kind === 'label') return;
      const o = pos[i] * 8;
      const rel = (l: Label) => {
        const d = (labels.get(l) as number) - pos[i] - 1;
        if (d < 0) throw new Error('seccomp: internal error: backward jump');
        return d;
      };
      if (it.kind === 'op') {
        buf.writeUInt16LE(it.code, o);
        buf.writeUInt32LE(it.k, o + 4);
      } else if (it.kind === 'ja') {
        buf.writeUInt16LE(BPF.JA, o);
        buf.writeUInt32LE(rel(it.target), o + 4);
      } else {
        buf.writeUInt16LE(it.code, o);
        buf.writeUInt8(rel(it.jt), o + 2);
        buf.writeUInt8(rel(it.jf), o + 3);
        buf.writeUInt32LE(it.k, o + 4);
      }
    });
    return buf;
  }
}

function layout(items: Item[]): { pos: number[]; labels: Map<Label, number>; count: number } {
  const pos: number[] = [];
  const labels = new Map<Label, number>();
  let n = 0;
  for (const it of items) {
    pos.push(n);
    if (it.kind === 'label') labels.set(it.id, n);
    else n++;
  }
  return { pos, labels, count: n };
}
