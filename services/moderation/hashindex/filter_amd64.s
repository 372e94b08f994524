//go:build !purego

#include "textflag.h"

// Popcount of each nibble, for VPSHUFB (one copy per 128-bit lane).
DATA popLUT<>+0x00(SB)/8, $0x0302020102010100
DATA popLUT<>+0x08(SB)/8, $0x0403030203020201
DATA popLUT<>+0x10(SB)/8, $0x0302020102010100
DATA popLUT<>+0x18(SB)/8, $0x0403030203020201
GLOBL popLUT<>(SB), RODATA|NOPTR, $32

// BYTEPOP replaces each byte of V by its popcount: a nibble lookup in the
// table in Y15 (Y14: 0x0f in every byte; clobbers Y5, Y6).
#define BYTEPOP(V) \
	VPSRLW     $4, V, Y5   \
	VPAND      Y14, V, Y6  \
	VPAND      Y14, Y5, Y5 \
	VPSHUFB    Y6, Y15, Y6 \
	VPSHUFB    Y5, Y15, Y5 \
	VPADDB     Y5, Y6, V

// POPINIT loads what BYTEPOP needs: the nibble table into Y15 and 0x0f in
// every byte of Y14 (clobbers AX).
#define POPINIT \
	VMOVDQU      popLUT<>(SB), Y15 \
	MOVL         $0x0f0f0f0f, AX   \
	VMOVQ        AX, X14           \
	VPBROADCASTD X14, Y14

// NEAR8 turns the eight dwords of V (signature XOR query) into all-ones
// where their popcount is below Y1 (lim+1): popcount per byte, bytes
// summed to words, then words to dwords.
#define NEAR8(V) \
	BYTEPOP(V)             \
	VPMADDUBSW Y13, V, V   \
	VPMADDWD   Y12, V, V   \
	VPCMPGTD   V, Y1, V

// SLOTCTL8 turns the bucket slot in AX of an eight-key orbit into the
// orbit's first slot (AX) and the BEXTR control (R15) that takes a
// member's code of the slot out of its move: three bits at 3*(slot&7)
// (see moveSlot).
#define SLOTCTL8 \
	MOVL AX, R15           \
	ANDL $7, R15           \
	LEAL (R15)(R15*2), R15 \
	ORL  $0x300, R15       \
	ANDL $-8, AX

// SLOTCTL decodes the slot in AX as SLOTCTL8 does, jumping to four (which
// does SLOTCTL4) for the slots of four-key orbits, numbered from 65024.
#define SLOTCTL(four) \
	CMPL AX, $65024 \
	JAE  four       \
	SLOTCTL8

// SLOTCTL4 is SLOTCTL8 for four-key orbits: two bits at 24+2*(slot&3).
#define SLOTCTL4 \
	MOVL AX, R15             \
	ANDL $3, R15             \
	LEAL 24(R15)(R15*1), R15 \
	ORL  $0x200, R15         \
	ANDL $-4, AX

// func filterSigsAVX2(sig *uint32, runs *run, nruns int, qsig *uint32, radius int, out *uint32) int
TEXT ·filterSigsAVX2(SB), NOSPLIT, $0-56
	MOVQ sig+0(FP), SI
	MOVQ runs+8(FP), DI
	MOVQ nruns+16(FP), CX
	MOVQ qsig+24(FP), R8
	MOVQ radius+32(FP), R9
	MOVQ out+40(FP), R10
	XORQ BX, BX

	POPINIT
	MOVL    $0x01010101, AX
	VMOVQ   AX, X13
	VPBROADCASTD X13, Y13
	MOVL    $0x00010001, AX
	VMOVQ   AX, X12
	VPBROADCASTD X12, Y12

loop:
	CMPQ BX, CX
	JGE  done
	MOVL 0(DI), AX         // lo
	MOVL 4(DI), DX         // hi
	SUBL AX, DX            // n = hi - lo
	MOVBLZX 13(DI), R12    // query index
	SHLQ $8, R12           // qsig rows are 64 uint32s
	MOVL (R8)(R12*1), R13
	VMOVQ R13, X0
	VPBROADCASTD X0, Y0
	MOVBLZX 14(DI), R13    // the bucket key's distance d
	MOVQ R9, R12
	SUBQ R13, R12
	INCQ R12               // lim+1 = radius - d + 1
	VMOVQ R12, X1
	VPBROADCASTD X1, Y1
	LEAQ (SI)(AX*4), R13   // &sig[lo]

	// The first 24 entries, whatever n: one branch per bucket.
	VPXOR 0(R13), Y0, Y2
	VPXOR 32(R13), Y0, Y3
	VPXOR 64(R13), Y0, Y4
	NEAR8(Y2)
	NEAR8(Y3)
	NEAR8(Y4)
	VMOVMSKPS Y2, AX
	VMOVMSKPS Y3, R11
	SHLL $8, R11
	ORL  R11, AX
	VMOVMSKPS Y4, R11
	SHLL $16, R11
	ORL  R11, AX
	MOVL $24, R12
	CMPL DX, R12
	CMOVLLT DX, R12        // min(n, 24)
	BZHIL R12, AX, AX      // drop the lanes past the bucket
	TESTL AX, AX
	JNZ  hit

cont:
	CMPL DX, $24
	JGT  more

next:
	ADDQ $16, DI
	INCQ BX
	JMP  loop

hit:
	MOVL BX, 0(R10)
	MOVL $0, 4(R10)
	MOVL AX, 8(R10)
	ADDQ $12, R10
	JMP  cont

more:
	// Buckets of more than 24 entries (about 2%): eight at a time.
	MOVL $24, R12

moreloop:
	CMPL R12, DX
	JGE  next
	VPXOR (R13)(R12*4), Y0, Y2
	NEAR8(Y2)
	VMOVMSKPS Y2, AX
	MOVL DX, R11
	SUBL R12, R11
	CMPL R11, $8
	JLE  clamped
	MOVL $8, R11

clamped:
	BZHIL R11, AX, AX
	TESTL AX, AX
	JZ    skip
	MOVL BX, 0(R10)
	MOVL R12, 4(R10)
	MOVL AX, 8(R10)
	ADDQ $12, R10

skip:
	ADDL $8, R12
	JMP  moreloop

done:
	MOVQ out+40(FP), AX
	SUBQ AX, R10
	SHRQ $2, R10
	MOVQ R10, ret+48(FP)
	VZEROUPPER
	RET

// func cpuid(leaf, sub uint32) (a, b, c, d uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, a+8(FP)
	MOVL BX, b+12(FP)
	MOVL CX, c+16(FP)
	MOVL DX, d+20(FP)
	RET

// func xgetbv0() uint32
TEXT ·xgetbv0(SB), NOSPLIT, $0-4
	MOVL $0, CX
	XGETBV
	MOVL AX, ret+0(FP)
	RET

// func prefetchRuns(base *uint32, runs *run, nruns int, shift int)
TEXT ·prefetchRuns(SB), NOSPLIT, $0-32
	MOVQ base+0(FP), SI
	MOVQ runs+8(FP), DI
	MOVQ nruns+16(FP), CX
	MOVQ shift+24(FP), R8
	TESTQ CX, CX
	JEQ  pdone
	CMPQ R8, $3
	JEQ  p64
	CMPQ R8, $1
	JEQ  p16

p32:
	MOVL 0(DI), AX
	MOVL 4(DI), DX
	PREFETCHT0 (SI)(AX*4)
	PREFETCHT0 -4(SI)(DX*4)
	ADDQ $16, DI
	DECQ CX
	JNZ  p32
	RET

p64:
	MOVL 0(DI), AX
	MOVL 4(DI), DX
	PREFETCHT0 (SI)(AX*8)
	PREFETCHT0 64(SI)(AX*8)
	PREFETCHT0 -8(SI)(DX*8)
	ADDQ $16, DI
	DECQ CX
	JNZ  p64

pdone:
	RET

p16:
	MOVL 0(DI), AX
	MOVL 4(DI), DX
	PREFETCHT0 (SI)(AX*2)
	PREFETCHT0 -2(SI)(DX*2)
	ADDQ $16, DI
	DECQ CX
	JNZ  p16
	RET

// func prefetchKeys(off *uint32, keys *uint32, n int)
TEXT ·prefetchKeys(SB), NOSPLIT, $0-24
	MOVQ off+0(FP), SI
	MOVQ keys+8(FP), DI
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JEQ  kdone

kloop:
	MOVL (DI), AX
	PREFETCHT0 (SI)(AX*4)
	ADDQ $4, DI
	DECQ CX
	JNZ  kloop

kdone:
	RET

// func prefetchHashes(data *uint64, pos *uint32, n int)
TEXT ·prefetchHashes(SB), NOSPLIT, $0-24
	MOVQ data+0(FP), SI
	MOVQ pos+8(FP), DI
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JEQ  hdone

hloop:
	MOVL (DI), AX
	SHLQ $5, AX
	PREFETCHT0 (SI)(AX*1)
	ADDQ $4, DI
	DECQ CX
	JNZ  hloop

hdone:
	RET

// NEAR4 is NEAR8 for the four qwords of V (hash XOR query), below Y1
// (radius+1 in each qword); Y11 is zero.
#define NEAR4(V) \
	BYTEPOP(V)             \
	VPSADBW    Y11, V, V   \
	VPCMPGTQ   V, Y1, V

// func filterHashesAVX2(data *uint64, runs *run, nruns int, qs *uint64, radius int, out *uint32) int
TEXT ·filterHashesAVX2(SB), NOSPLIT, $0-56
	MOVQ data+0(FP), SI
	MOVQ runs+8(FP), DI
	MOVQ nruns+16(FP), CX
	MOVQ qs+24(FP), R8
	MOVQ radius+32(FP), R9
	MOVQ out+40(FP), R10
	XORQ BX, BX

	POPINIT
	VPXOR   Y11, Y11, Y11
	INCQ    R9
	VMOVQ   R9, X1
	VPBROADCASTQ X1, Y1      // radius+1

zloop:
	CMPQ BX, CX
	JGE  zdone
	MOVL 0(DI), AX           // lo
	MOVL 4(DI), DX           // hi
	SUBL AX, DX              // n
	MOVBLZX 13(DI), R12      // query index
	MOVQ (R8)(R12*8), R13
	VMOVQ R13, X0
	VPBROADCASTQ X0, Y0
	LEAQ (SI)(AX*8), R13     // &data[lo]

	// The first 24 hashes, whatever n.
	VPXOR 0(R13), Y0, Y2
	VPXOR 32(R13), Y0, Y3
	VPXOR 64(R13), Y0, Y4
	NEAR4(Y2)
	NEAR4(Y3)
	NEAR4(Y4)
	VMOVMSKPD Y2, AX
	VMOVMSKPD Y3, R11
	SHLL $4, R11
	ORL  R11, AX
	VMOVMSKPD Y4, R11
	SHLL $8, R11
	ORL  R11, AX
	VPXOR 96(R13), Y0, Y2
	VPXOR 128(R13), Y0, Y3
	VPXOR 160(R13), Y0, Y4
	NEAR4(Y2)
	NEAR4(Y3)
	NEAR4(Y4)
	VMOVMSKPD Y2, R11
	SHLL $12, R11
	ORL  R11, AX
	VMOVMSKPD Y3, R11
	SHLL $16, R11
	ORL  R11, AX
	VMOVMSKPD Y4, R11
	SHLL $20, R11
	ORL  R11, AX
	MOVL $24, R12
	CMPL DX, R12
	CMOVLLT DX, R12
	BZHIL R12, AX, AX
	TESTL AX, AX
	JNZ  zhit

zcont:
	CMPL DX, $24
	JGT  zmore

znext:
	ADDQ $16, DI
	INCQ BX
	JMP  zloop

zhit:
	MOVL BX, 0(R10)
	MOVL $0, 4(R10)
	MOVL AX, 8(R10)
	ADDQ $12, R10
	JMP  zcont

zmore:
	MOVL $24, R12

zmoreloop:
	CMPL R12, DX
	JGE  znext
	VPXOR (R13)(R12*8), Y0, Y2
	NEAR4(Y2)
	VMOVMSKPD Y2, AX
	MOVL DX, R11
	SUBL R12, R11
	CMPL R11, $4
	JLE  zclamped
	MOVL $4, R11

zclamped:
	BZHIL R11, AX, AX
	TESTL AX, AX
	JZ    zskip
	MOVL BX, 0(R10)
	MOVL R12, 4(R10)
	MOVL AX, 8(R10)
	ADDQ $12, R10

zskip:
	ADDL $4, R12
	JMP  zmoreloop

zdone:
	MOVQ out+40(FP), AX
	SUBQ AX, R10
	SHRQ $2, R10
	MOVQ R10, ret+48(FP)
	VZEROUPPER
	RET

// func gatherRuns(off *uint32, keys *uint32, nk int, qk uint32, tq uint32, runs *run, base unsafe.Pointer, shift int) (n int, entries int)
TEXT ·gatherRuns(SB), NOSPLIT, $0-72
	MOVQ off+0(FP), SI
	MOVQ keys+8(FP), DI
	MOVQ nk+16(FP), CX
	MOVL qk+24(FP), R8
	MOVL tq+28(FP), R9
	MOVQ runs+32(FP), R10
	MOVQ base+40(FP), R11
	MOVQ shift+48(FP), R12
	MOVQ R10, BX            // first run
	XORQ R13, R13           // entries
	TESTQ CX, CX
	JEQ  gdone
	CMPQ R12, $3
	JEQ  g64

g32:
	MOVL (DI), AX           // key
	MOVL (SI)(AX*4), DX     // lo
	MOVL 4(SI)(AX*4), R12   // hi
	CMPL DX, R12
	JAE  g32skip
	PREFETCHT0 (R11)(DX*4)
	PREFETCHT0 -4(R11)(R12*4)
	MOVL DX, 0(R10)
	MOVL R12, 4(R10)
	MOVL AX, 8(R10)
	SUBL DX, R12
	ADDQ R12, R13
	XORL R8, AX
	POPCNTL AX, AX
	SHLL $16, AX
	ORL  R9, AX
	MOVL AX, 12(R10)        // t, q, d, 0
	ADDQ $16, R10

g32skip:
	ADDQ $4, DI
	DECQ CX
	JNZ  g32
	JMP  gdone

g64:
	MOVL (DI), AX
	MOVL (SI)(AX*4), DX
	MOVL 4(SI)(AX*4), R12
	CMPL DX, R12
	JAE  g64skip
	PREFETCHT0 (R11)(DX*8)
	PREFETCHT0 64(R11)(DX*8)
	PREFETCHT0 -8(R11)(R12*8)
	MOVL DX, 0(R10)
	MOVL R12, 4(R10)
	MOVL AX, 8(R10)
	SUBL DX, R12
	ADDQ R12, R13
	XORL R8, AX
	POPCNTL AX, AX
	SHLL $16, AX
	ORL  R9, AX
	MOVL AX, 12(R10)
	ADDQ $16, R10

g64skip:
	ADDQ $4, DI
	DECQ CX
	JNZ  g64

gdone:
	SUBQ BX, R10
	SHRQ $4, R10
	MOVQ R10, n+56(FP)
	MOVQ R13, entries+64(FP)
	RET

// NEAR16 turns the sixteen words of V (fingerprint XOR the query's partner
// chunk) into all-ones where their popcount is below Y1 (lim+1 in every
// word): popcount per byte, bytes summed to words.
#define NEAR16(V) \
	BYTEPOP(V)             \
	VPMADDUBSW Y13, V, V   \
	VPCMPGTW   V, Y1, V

// func filterFPAVX2(fp *uint16, runs *run, nruns int, qpk *uint32, bound int, out *uint32) int
TEXT ·filterFPAVX2(SB), NOSPLIT, $0-56
	MOVQ fp+0(FP), SI
	MOVQ runs+8(FP), DI
	MOVQ nruns+16(FP), CX
	MOVQ qpk+24(FP), R8
	MOVQ bound+32(FP), R9
	MOVQ out+40(FP), R10
	XORQ BX, BX
	INCQ R9                // bound+1

	POPINIT
	MOVL    $0x01010101, AX
	VMOVQ   AX, X13
	VPBROADCASTD X13, Y13

floop:
	CMPQ BX, CX
	JGE  fdone
	MOVL 0(DI), AX         // lo
	MOVL 4(DI), DX         // hi
	SUBL AX, DX            // n = hi - lo
	MOVBLZX 13(DI), R12    // query index
	SHLQ $8, R12           // key rows are 64 uint32s
	VPBROADCASTW (R8)(R12*1), Y0
	MOVBLZX 14(DI), R13    // the bucket key's distance d
	MOVQ R9, R12
	SUBQ R13, R12          // lim+1 = bound - d + 1
	VMOVQ R12, X1
	VPBROADCASTW X1, Y1
	LEAQ (SI)(AX*2), R13   // &fp[lo]

	// The first 32 entries, whatever n: one branch per bucket. Few
	// buckets have a lane within lim (~8 % at r = 31, counting lanes
	// past the end), so the bitmask is built only for those.
	VPXOR 0(R13), Y0, Y2
	VPXOR 32(R13), Y0, Y3
	NEAR16(Y2)
	NEAR16(Y3)
	VPOR  Y3, Y2, Y4
	VPTEST Y4, Y4
	JNZ  fmask

fcont:
	CMPL DX, $32
	JGT  fmore

fnext:
	ADDQ $16, DI
	INCQ BX
	JMP  floop

fmask:
	VPACKSSWB Y3, Y2, Y2
	VPERMQ    $0xd8, Y2, Y2
	VPMOVMSKB Y2, AX
	MOVL $32, R12
	CMPL DX, R12
	CMOVLLT DX, R12        // min(n, 32)
	BZHIL R12, AX, AX      // drop the lanes past the bucket
	TESTL AX, AX
	JZ   fcont
	MOVL BX, 0(R10)
	MOVL $0, 4(R10)
	MOVL AX, 8(R10)
	ADDQ $12, R10
	JMP  fcont

fmore:
	// Buckets of more than 32 entries (rare with 16-bit keys): sixteen at
	// a time.
	MOVL $32, R12

fmoreloop:
	CMPL R12, DX
	JGE  fnext
	VPXOR (R13)(R12*2), Y0, Y2
	NEAR16(Y2)
	VPACKSSWB Y2, Y2, Y2
	VPERMQ    $0xd8, Y2, Y2
	VPMOVMSKB Y2, AX
	ANDL $0xffff, AX
	MOVL DX, R11
	SUBL R12, R11
	CMPL R11, $16
	JLE  fclamped
	MOVL $16, R11

fclamped:
	BZHIL R11, AX, AX
	TESTL AX, AX
	JZ    fskip
	MOVL BX, 0(R10)
	MOVL R12, 4(R10)
	MOVL AX, 8(R10)
	ADDQ $12, R10

fskip:
	ADDL $16, R12
	JMP  fmoreloop

fdone:
	MOVQ out+40(FP), AX
	SUBQ AX, R10
	SHRQ $2, R10
	MOVQ R10, ret+48(FP)
	VZEROUPPER
	RET

// func gatherSlots(off *uint32, slots *uint32, keys *uint32, nk int, qk uint32, tq uint32, runs *run, fp *uint16, mv uint32) (n int, entries int)
TEXT ·gatherSlots(SB), NOSPLIT, $0-80
	MOVQ off+0(FP), SI
	MOVQ slots+8(FP), DI
	MOVQ keys+16(FP), R8
	MOVQ nk+24(FP), CX
	MOVL qk+32(FP), R9
	MOVL tq+36(FP), R14
	MOVQ runs+40(FP), R10
	MOVQ fp+48(FP), R11
	MOVL mv+56(FP), R12
	MOVQ R10, BX            // first run
	XORQ R13, R13           // entries
	TESTQ CX, CX
	JEQ  sdone

sloop:
	MOVL (DI), AX           // slot
	// moveSlot; the four-key orbits (from 65024, 1 in 128 keys) aside.
	CMPL AX, $65024
	JAE  sfour
	MOVL AX, DX
	ANDL $7, DX
	LEAL (DX)(DX*2), DX
	SHRXL DX, R12, DX
	ANDL $7, DX
	ANDL $-8, AX
	ORL  DX, AX

smoved:
	MOVL (SI)(AX*4), DX     // lo
	MOVL 4(SI)(AX*4), R15   // hi
	CMPL DX, R15
	JAE  sskip
	PREFETCHT0 (R11)(DX*2)
	PREFETCHT0 -2(R11)(R15*2)
	MOVL DX, 0(R10)
	MOVL R15, 4(R10)
	MOVL $0, 8(R10)
	SUBL DX, R15
	ADDQ R15, R13
	MOVL (R8), AX
	XORL R9, AX
	POPCNTL AX, AX
	SHLL $16, AX
	ORL  R14, AX
	MOVL AX, 12(R10)        // t, q, d, 0
	ADDQ $16, R10

sskip:
	ADDQ $4, DI
	ADDQ $4, R8
	DECQ CX
	JNZ  sloop

sdone:
	SUBQ BX, R10
	SHRQ $4, R10
	MOVQ R10, n+64(FP)
	MOVQ R13, entries+72(FP)
	RET

sfour:
	MOVL AX, DX
	ANDL $3, DX
	LEAL 24(DX)(DX*1), DX
	SHRXL DX, R12, DX
	ANDL $3, DX
	ANDL $-4, AX
	ORL  DX, AX
	JMP  smoved

// func prefetchGroup(off *uint32, slots *uint32, nk int, fp *uint16, grp *group) (entries int)
TEXT ·prefetchGroup(SB), NOSPLIT, $0-48
	MOVQ off+0(FP), SI
	MOVQ slots+8(FP), DI
	MOVQ nk+16(FP), CX
	MOVQ fp+24(FP), R11
	MOVQ grp+32(FP), R12
	XORQ R10, R10           // entries
	LEAQ (DI)(CX*4), CX     // end of slots
	MOVQ 96(R12), BX        // members

pgslot:
	CMPQ DI, CX
	JAE  pgdone
	MOVL (DI), AX
	SLOTCTL(pgfour)

pgbase:
	LEAQ (SI)(AX*4), R14
	XORL DX, DX

pgmem:
	BEXTRL R15, (R12)(DX*4), AX   // the member's code in the orbit
	MOVL (R14)(AX*4), R13         // lo
	MOVL 4(R14)(AX*4), R9         // hi
	SUBL R13, R9
	JZ   pgnext
	PREFETCHT0 (R11)(R13*2)
	ADDL R9, R13
	PREFETCHT0 -2(R11)(R13*2)
	ADDQ R9, R10

pgnext:
	INCQ DX
	CMPQ DX, BX
	JLT  pgmem
	ADDQ $4, DI
	JMP  pgslot

pgdone:
	MOVQ R10, entries+40(FP)
	RET

pgfour:
	SLOTCTL4
	JMP  pgbase

// func filterGroup(off *uint32, slots *uint32, keys *uint32, nk int, qk uint32, bound int, fp *uint16, grp *group, out *uint32) int
//
// For each of the owner's nk slots: its distance d and limit once, then
// each member's bucket (the slot moved by the member's move, within the
// orbit whose offsets the first member loaded), its first 32 entries in
// one branch as in filterFPAVX2. Writes (first entry, bitmask, t | q<<8)
// triples.
//
// A bucket of n ≤ 32 entries is read through one window of 16 entries
// (32 if n > 16) that holds it and ends within the line of its last
// entry: the window starts at a = min(lo, that line's end - width), so
// no line outside the bucket's own is read (filterFPAVX2 reads 32
// entries from lo whatever n: for eight real variants 1,805 fingerprint
// lines a call against 1,516 for the buckets alone); the lanes
// are shifted back by lo-a before the bitmask is written.
TEXT ·filterGroup(SB), NOSPLIT, $16-80
	MOVQ off+0(FP), SI
	MOVQ slots+8(FP), DI
	MOVQ keys+16(FP), AX
	SUBQ DI, AX
	MOVQ AX, kd-16(SP)      // keys - slots
	MOVQ nk+24(FP), CX
	MOVQ fp+48(FP), R11
	MOVQ grp+56(FP), R12
	MOVQ out+64(FP), R10
	LEAQ (DI)(CX*4), CX     // end of slots
	MOVQ bound+40(FP), AX
	INCQ AX
	VMOVQ AX, X7
	VPBROADCASTW X7, Y7     // bound+1

	POPINIT
	MOVL    $0x01010101, AX
	VMOVQ   AX, X13
	VPBROADCASTD X13, Y13

gslot:
	CMPQ DI, CX
	JAE  gdone
	MOVQ kd-16(SP), AX
	MOVL (DI)(AX*1), R13    // the slot's key
	XORL qk+32(FP), R13
	POPCNTL R13, R13        // d
	VMOVQ R13, X8
	VPBROADCASTW X8, Y8
	VPSUBW Y8, Y7, Y1       // lim+1 = bound - d + 1
	MOVL (DI), AX
	SLOTCTL(gfour)

gbase:
	LEAQ (SI)(AX*4), R14
	XORL DX, DX

gmem:
	BEXTRL R15, (R12)(DX*4), AX   // the member's code in the orbit
	MOVL (R14)(AX*4), R13         // lo
	MOVL 4(R14)(AX*4), R9         // hi
	MOVL R9, AX
	SUBL R13, AX                  // n
	JZ   gnext
	XORL R8, R8
	CMPL AX, $16
	SETGT R8B
	SHLL $4, R8                   // window width - 16
	DECL R9
	ORL  $31, R9
	SUBL $15, R9
	SUBL R8, R9                   // the last line's end - width
	CMPL R9, R13
	CMOVLGT R13, R9               // a = min(that, lo)
	SUBL R9, R13                  // s = lo - a
	VPBROADCASTW 32(R12)(DX*4), Y0   // the member's partner key
	LEAQ (R11)(R9*2), BX
	VPXOR (BX), Y0, Y2
	VPXOR (BX)(R8*2), Y0, Y3      // width 16: the same lanes again
	NEAR16(Y2)
	NEAR16(Y3)
	VPOR  Y3, Y2, Y4
	VPTEST Y4, Y4
	JNZ  gmask

gcont:
	CMPL AX, $32
	JGT  gmore

gnext:
	INCQ DX
	CMPQ DX, 96(R12)
	JLT  gmem
	ADDQ $4, DI
	JMP  gslot

gmask:
	VPACKSSWB Y3, Y2, Y2
	VPERMQ    $0xd8, Y2, Y2
	VPMOVMSKB Y2, BX
	SHRXL R13, BX, BX       // lanes from lo
	MOVL $32, R8
	CMPL AX, R8
	CMOVLLT AX, R8          // min(n, 32)
	BZHIL R8, BX, BX        // drop the lanes past the bucket
	TESTL BX, BX
	JZ   gcont
	LEAL (R9)(R13*1), R8    // lo
	MOVL R8, 0(R10)
	MOVL BX, 4(R10)
	MOVL 64(R12)(DX*4), BX
	MOVL BX, 8(R10)
	ADDQ $12, R10
	JMP  gcont

gmore:
	// Buckets of more than 32 entries (a = lo): sixteen at a time from
	// lo+32 (DX spilled).
	MOVQ DX, m-8(SP)
	MOVL $32, R8

gmoreloop:
	CMPL R8, AX
	JGE  gmoredone
	LEAL (R9)(R8*1), BX     // entry lo+k
	VPXOR (R11)(BX*2), Y0, Y2
	NEAR16(Y2)
	VPACKSSWB Y2, Y2, Y2
	VPERMQ    $0xd8, Y2, Y2
	VPMOVMSKB Y2, DX
	ANDL $0xffff, DX
	MOVL AX, BX
	SUBL R8, BX             // entries left
	CMPL BX, $16
	JGE  gfull
	BZHIL BX, DX, DX

gfull:
	TESTL DX, DX
	JZ   gskip
	LEAL (R9)(R8*1), BX
	MOVL BX, 0(R10)
	MOVL DX, 4(R10)
	MOVQ m-8(SP), DX
	MOVL 64(R12)(DX*4), BX
	MOVL BX, 8(R10)
	ADDQ $12, R10

gskip:
	ADDL $16, R8
	JMP  gmoreloop

gmoredone:
	MOVQ m-8(SP), DX
	JMP  gnext

gdone:
	MOVQ out+64(FP), AX
	SUBQ AX, R10
	SHRQ $2, R10
	MOVQ R10, ret+72(FP)
	VZEROUPPER
	RET

gfour:
	SLOTCTL4
	JMP  gbase
