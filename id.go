package eventgate

import (
	"encoding/hex"
	"math/rand/v2"
	"sync"
	"time"
	"unsafe"
)

// idLen is the length of an id's canonical form.
const idLen = 36

// NewID returns a new UUIDv7 (RFC 9562) in its canonical 36-character form:
// 48 bits of Unix milliseconds followed by 74 random bits, so ids sort by
// creation time to the millisecond and never collide in practice.
func NewID() string {
	var s [idLen]byte
	putID(s[:], time.Now())
	return string(s[:])
}

// putID writes a new UUIDv7 for t into s, which holds idLen bytes.
func putID(s []byte, t time.Time) {
	var u [16]byte
	ms := uint64(t.UnixMilli())
	u[0] = byte(ms >> 40)
	u[1] = byte(ms >> 32)
	u[2] = byte(ms >> 24)
	u[3] = byte(ms >> 16)
	u[4] = byte(ms >> 8)
	u[5] = byte(ms)
	r1, r2 := rand.Uint64(), rand.Uint64()
	u[6] = 0x70 | byte(r1&0x0f) // version 7
	u[7] = byte(r1 >> 8)
	u[8] = 0x80 | byte((r1>>16)&0x3f) // variant 10
	for i := 9; i < 16; i++ {
		u[i] = byte(r2 >> (8 * (i - 9)))
	}
	_ = s[idLen-1]
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], u[10:16])
}

// idBlockSize is the bytes of ids one allocation serves. An id kept by its
// event keeps its block alive, so the blocks stay small.
const idBlockSize = 28 * idLen

// idSource makes the ids Log assigns, carving them from shared blocks so that
// an id costs a fraction of an allocation. It is safe for concurrent use.
type idSource struct {
	blocks sync.Pool // of *[]byte: the unused rest of a block
}

// newAt returns a new id for t, as NewID does.
func (src *idSource) newAt(t time.Time) string {
	p, _ := src.blocks.Get().(*[]byte)
	if p == nil || len(*p) < idLen {
		b := make([]byte, idBlockSize)
		p = &b
	}
	s := (*p)[:idLen:idLen]
	putID(s, t)
	// The bytes of s are never written again: the block moves past them.
	*p = (*p)[idLen:]
	src.blocks.Put(p)
	return unsafe.String(&s[0], idLen)
}
