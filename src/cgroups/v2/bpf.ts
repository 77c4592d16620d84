// A tiny eBPF assembler: the handful of instructions the device filter needs, encoded as the kernel's
// struct bpf_insn (u8 code, u8 dst:4|src:4, s16 off, s32 imm; little endian), with jumps to labels.

// Opcode = class | op | source (include/uapi/linux/bpf.h, bpf_common.h).
export const OP = {
  LDX_MEM_W: 0x61, // BPF_LDX | BPF_MEM | BPF_W
  ALU32_AND_K: 0x54, // BPF_ALU | BPF_AND | BPF_K
  ALU32_RSH_K: 0x74, // BPF_ALU | BPF_RSH | BPF_K
  ALU32_MOV_K: 0xb4, // BPF_ALU | BPF_MOV | BPF_K
  ALU32_MOV_X: 0xbc, // BPF_ALU | BPF_MOV | BPF_X
  JNE_K: 0x55, // BPF_JMP | BPF_JNE | BPF_K
  JNE_X: 0x5d, // BPF_JMP | BPF_JNE | BPF_X
  EXIT: 0x95, // BPF_JMP | BPF_EXIT
} as const;

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  // A jump's target label, resolved to `off` by encode(); a label on this instruction.
  jumpTo?: string;
  label?: string;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number, jumpTo?: string): Insn => ({ code, dst, src, off, imm, jumpTo });

export const asm = {
  loadWord: (dst: number, src: number, off: number) => insn(OP.LDX_MEM_W, dst, src, off, 0),
  and32: (dst: number, imm: number) => insn(OP.ALU32_AND_K, dst, 0, 0, imm),
  rsh32: (dst: number, imm: number) => insn(OP.ALU32_RSH_K, dst, 0, 0, imm),
  mov32: (dst: number, imm: number) => insn(OP.ALU32_MOV_K, dst, 0, 0, imm),
  mov32Reg: (dst: number, src: number) => insn(OP.ALU32_MOV_X, dst, src, 0, 0),
  jneImm: (dst: number, imm: number, to: string) => insn(OP.JNE_K, dst, 0, 0, imm, to),
  jneReg: (dst: number, src: number, to: string) => insn(OP.JNE_X, dst, src, 0, 0, to),
  exit: () => insn(OP.EXIT, 0, 0, 0, 0),
};

// Resolves labels (a jump's offset counts from the instruction after it) and packs the program.
export function encode(prog: Insn[]): Buffer {
  const labels = new Map<string, number>();
  prog.forEach((p, i) => {
    if (p.label !== undefined) labels.set(p.label, i);
  });
  const out = Buffer.alloc(prog.length * 8);
  prog.forEach((p, i) => {
    let off = p.off;
    if (p.jumpTo !== undefined) {
      const target = labels.get(p.jumpTo);
      if (target === undefined) throw new Error(`bpf: jump to undefined label ${p.jumpTo}`);
      off = target - (i + 1);
    }
    out.writeUInt8(p.code, i * 8);
    out.writeUInt8((p.src << 4) | (p.dst & 0xf), i * 8 + 1);
    out.writeInt16LE(off, i * 8 + 2);
    out.writeInt32LE(p.imm | 0, i * 8 + 4);
  });
  return out;
}
